package dev.aegis.security;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Turns a host name into addresses for the egress proxy. The proxy resolves once per connection or request,
 * checks the addresses, and connects to the one it checked, so a name that changes between a check and a
 * connect (DNS rebinding) cannot slip in another address.
 */
@FunctionalInterface
public interface Resolver {
    /** The addresses of {@code name} (a canonical lower-case DNS name, never an IP literal), in preference order. */
    List<InetAddress> resolve(String name) throws UnknownHostException;

    /** The operating system's resolver, as {@link InetAddress#getAllByName} (with the JDK's address cache). */
    static Resolver system() {
        return name -> List.of(InetAddress.getAllByName(name));
    }

    /** Fixed answers, e.g. for tests; other names do not resolve. */
    static Resolver of(Map<String, List<InetAddress>> table) {
        Map<String, List<InetAddress>> copy = new HashMap<>();
        table.forEach((name, ips) -> copy.put(name.toLowerCase(Locale.ROOT), List.copyOf(ips)));
        return name -> {
            List<InetAddress> ips = copy.get(name);
            if (ips == null || ips.isEmpty()) throw new UnknownHostException(name);
            return ips;
        };
    }

    /** Answers from a file in {@code /etc/hosts} format ({@code address name [name...]}, {@code #} comments). */
    static Resolver hostsFile(Path file) {
        Map<String, List<InetAddress>> table = new HashMap<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read hosts file " + file, e);
        }
        for (int n = 0; n < lines.size(); n++) {
            String line = lines.get(n).replaceFirst("#.*", "").strip();
            if (line.isEmpty()) continue;
            String[] fields = line.split("\\s+");
            if (fields.length < 2 || !fields[0].matches("[0-9a-fA-F:.]+"))
                throw new IllegalArgumentException(file + ":" + (n + 1) + ": \"" + line + "\" is not \"address name...\"");
            InetAddress ip;
            try {
                ip = InetAddress.getByName(fields[0]); // an address literal: no lookup
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(file + ":" + (n + 1) + ": \"" + fields[0] + "\" is not an IP address");
            }
            for (int i = 1; i < fields.length; i++)
                table.computeIfAbsent(fields[i].toLowerCase(Locale.ROOT), k -> new ArrayList<>()).add(ip);
        }
        return of(table);
    }
}
