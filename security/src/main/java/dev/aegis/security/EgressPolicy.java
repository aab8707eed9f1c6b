package dev.aegis.security;

import dev.aegis.core.EgressRule;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Decides one connection attempt against an agent's {@code permissions.network.egress} entries. A name must
 * match a name entry (exact, or {@code *.domain} for names below the domain) on that port; each address it
 * resolves to must be public, or named by an address entry on that port; an IP literal must match an address
 * entry. Cloud metadata addresses are always refused. The chosen address is the one the proxy connects to.
 */
final class EgressPolicy {
    /** The outcome of one check. */
    sealed interface Verdict {
        /** Connect to exactly {@code ip}; when {@code tlsRequired}, only a TLS tunnel naming the host may pass. */
        record Allow(InetAddress ip, boolean tlsRequired) implements Verdict {}

        /** Refuse with this HTTP status and reason. */
        record Deny(int status, String reason) implements Verdict {}
    }

    private static final String LIST = "permissions.network.egress";

    private EgressPolicy() {}

    static Verdict check(List<EgressRule> rules, Host host, int port, Resolver resolver) {
        return switch (host) {
            case Host.Address a -> address(rules, a.ip(), a.text(), port);
            case Host.Name n -> name(rules, n, port, resolver);
        };
    }

    private static Verdict address(List<EgressRule> rules, InetAddress ip, String text, int port) {
        if (Addresses.isMetadata(ip)) return metadata(text);
        List<EgressRule> matching = rules.stream().filter(r -> !r.isName() && Addresses.Cidr.parse(r.host()).contains(ip)).toList();
        if (matching.isEmpty()) return deny(text + ":" + port + " is not in " + LIST);
        if (matching.stream().noneMatch(r -> r.port() == port)) return wrongPort(text, port, matching);
        return new Verdict.Allow(ip, false);
    }

    private static Verdict name(List<EgressRule> rules, Host.Name name, int port, Resolver resolver) {
        List<EgressRule> matching = rules.stream().filter(r -> r.isName() && matches(r.host(), name)).toList();
        if (matching.isEmpty()) {
            boolean wildcardOnly = name.idn() && rules.stream().anyMatch(r -> r.isName() && matches(r.host(), new Host.Name(name.text(), false)));
            return deny(wildcardOnly
                    ? name.text() + " is a punycode (IDN) name; only an entry naming it exactly allows it, not a wildcard"
                    : name.text() + ":" + port + " is not in " + LIST);
        }
        List<EgressRule> onPort = matching.stream().filter(r -> r.port() == port).toList();
        if (onPort.isEmpty()) return wrongPort(name.text(), port, matching);
        // Entries add up: a plain entry for the same name and port lifts a tls:// one.
        boolean tlsRequired = onPort.stream().allMatch(EgressRule::tls);
        List<InetAddress> ips;
        try {
            ips = resolver.resolve(name.text());
        } catch (UnknownHostException e) {
            return new Verdict.Deny(502, name.text() + " does not resolve");
        }
        String firstProblem = null;
        for (InetAddress ip : ips) {
            String problem = problem(rules, ip, port);
            if (problem == null) return new Verdict.Allow(ip, tlsRequired);
            if (firstProblem == null) firstProblem = problem;
        }
        return deny(name.text() + " resolves to " + (firstProblem == null ? "no address" : firstProblem));
    }

    /** Why a resolved address may not be used, or null when it may. */
    private static String problem(List<EgressRule> rules, InetAddress ip, int port) {
        String text = ip.getHostAddress();
        if (Addresses.isMetadata(ip)) return "cloud metadata address " + text + ", which is always denied";
        Optional<String> kind = Addresses.nonPublic(ip);
        if (kind.isEmpty()) return null;
        boolean listed = rules.stream().anyMatch(r -> !r.isName() && r.port() == port && Addresses.Cidr.parse(r.host()).contains(ip));
        return listed ? null : kind.get() + " address " + text + ", which is denied unless an entry names it by IP on port " + port;
    }

    /** Exact names match themselves; {@code *.d} matches names ending in {@code .d}, never {@code d} itself. */
    static boolean matches(String pattern, Host.Name name) {
        if (!pattern.startsWith("*.")) return pattern.equals(name.text());
        if (name.idn()) return false;
        return name.text().endsWith(pattern.substring(1));
    }

    private static Verdict wrongPort(String host, int port, List<EgressRule> matching) {
        TreeSet<Integer> ports = new TreeSet<>();
        matching.forEach(r -> ports.add(r.port()));
        return deny("port " + port + " is not allowed for " + host + " (allowed: " + ports.toString().replaceAll("[\\[\\]]", "") + ")");
    }

    private static Verdict metadata(String text) {
        return deny(text + " is a cloud metadata address, which is always denied");
    }

    private static Verdict deny(String reason) {
        return new Verdict.Deny(403, reason);
    }
}
