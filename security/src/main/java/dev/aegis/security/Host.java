package dev.aegis.security;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A host a client asked for, in the one canonical form the policy compares: a lower-case ASCII DNS name
 * without a trailing dot, or an IP address. Every other spelling is refused rather than normalised, because
 * each extra spelling a proxy accepts is one more place where it and a resolver or server may disagree.
 */
sealed interface Host {
    /** The canonical text: {@code api.example.com}, {@code 10.0.0.5} or {@code [2001:db8::1]}. */
    String text();

    /** A DNS name; {@code idn} when a label is punycode ({@code xn--}), which only an exact entry may allow. */
    record Name(String text, boolean idn) implements Host {}

    /** An IP literal. */
    record Address(InetAddress ip, String text) implements Host {}

    Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    /** Dotted quad with no leading zeros: the only IPv4 spelling accepted. */
    Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}");
    /** What inet_aton and URL parsers take as a number: decimal, octal (leading 0) or hex (0x). */
    Pattern NUMBER = Pattern.compile("[0-9]+|0x[0-9a-f]*");
    Pattern IPV6 = Pattern.compile("[0-9a-f:]+");

    /** @throws IllegalArgumentException with the reason the host is refused */
    static Host parse(String raw) {
        if (raw.isEmpty()) throw new IllegalArgumentException("empty host");
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c > 0x7e) throw new IllegalArgumentException("non-ASCII host " + Reasons.quote(raw) + "; IDN names must be written in punycode (xn--)");
            if (c <= 0x20) throw new IllegalArgumentException("host " + Reasons.quote(raw) + " contains a control character or space");
        }
        String host = raw.toLowerCase(Locale.ROOT);
        if (host.startsWith("[")) return ipv6(raw, host);
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        String[] labels = name.split("\\.", -1);
        // A host ending in a number is an IPv4 address to URL parsers and inet_aton (0x7f.1, 2130706433,
        // 017700000001, 127.1): accept only the dotted-quad spelling so that no other one can slip past a rule.
        if (NUMBER.matcher(labels[labels.length - 1]).matches()) {
            if (!IPV4.matcher(host).matches())
                throw new IllegalArgumentException(Reasons.quote(raw) + " is an alternative spelling of an IP address; write IPv4 as a dotted quad without leading zeros");
            return new Address(literal(host), host);
        }
        host = name;
        if (host.length() > 253) throw new IllegalArgumentException("host " + Reasons.quote(raw) + " is longer than 253 characters");
        boolean idn = false;
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) throw new IllegalArgumentException(Reasons.quote(raw) + " is not a valid host name");
            idn |= label.startsWith("xn--");
        }
        return new Name(host, idn);
    }

    private static Host ipv6(String raw, String host) {
        if (!host.endsWith("]")) throw new IllegalArgumentException(Reasons.quote(raw) + " is not a valid IPv6 literal");
        String inner = host.substring(1, host.length() - 1);
        if (inner.contains("."))
            throw new IllegalArgumentException(Reasons.quote(raw) + " embeds an IPv4 address in IPv6 (IPv4-mapped or -compatible); use the IPv4 address");
        if (!IPV6.matcher(inner).matches() || !inner.contains(":"))
            throw new IllegalArgumentException(Reasons.quote(raw) + " is not a valid IPv6 literal (zone ids are not allowed)");
        InetAddress ip = literal(inner);
        // The JDK turns ::ffff:a.b.c.d, in any spelling, into the IPv4 address: another name for it, refused.
        if (ip instanceof Inet4Address)
            throw new IllegalArgumentException(Reasons.quote(raw) + " is an IPv4-mapped IPv6 address; use the IPv4 address");
        return new Address(ip, host);
    }

    /** Parses an address literal; the JDK does no DNS lookup for text that is already an address. */
    private static InetAddress literal(String text) {
        try {
            return InetAddress.getByName(text);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException(Reasons.quote(text) + " is not a valid IP address");
        }
    }
}
