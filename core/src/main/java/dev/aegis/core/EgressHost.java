package dev.aegis.core;

import java.util.Locale;
import java.util.regex.Pattern;

/**
 * A host an agent asked to reach, in the one canonical form egress decisions compare: a lower-case ASCII DNS name
 * without a trailing dot, or an IP address. Every other spelling is refused rather than normalised, because each
 * extra spelling accepted is one more place where the check and a resolver or server may disagree.
 */
public sealed interface EgressHost {
    /** The canonical text: {@code api.example.com}, {@code 10.0.0.5} or {@code [2001:db8::1]}. */
    String text();

    /** A DNS name; {@code idn} when a label is punycode ({@code xn--}), which only an exact entry may allow. */
    record Name(String text, boolean idn) implements EgressHost {}

    /** An IP literal: {@code ip} holds its 4 or 16 bytes (not to be modified). */
    record Address(byte[] ip, String text) implements EgressHost {}

    Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");
    /** What inet_aton and URL parsers take as a number: decimal, octal (leading 0) or hex (0x). */
    Pattern NUMBER = Pattern.compile("[0-9]+|0x[0-9a-f]*");

    /** @throws IllegalArgumentException with the reason the host is refused */
    static EgressHost parse(String raw) {
        if (raw.isEmpty()) throw new IllegalArgumentException("empty host");
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c > 0x7e) throw new IllegalArgumentException("non-ASCII host " + quote(raw) + "; IDN names must be written in punycode (xn--)");
            if (c <= 0x20) throw new IllegalArgumentException("host " + quote(raw) + " contains a control character or space");
        }
        String host = raw.toLowerCase(Locale.ROOT);
        if (host.startsWith("[")) return ipv6(raw, host);
        String name = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
        String[] labels = name.split("\\.", -1);
        // A host ending in a number is an IPv4 address to URL parsers and inet_aton (0x7f.1, 2130706433,
        // 017700000001, 127.1): accept only the dotted-quad spelling so that no other one can slip past a rule.
        if (NUMBER.matcher(labels[labels.length - 1]).matches()) {
            byte[] ip = host.equals(name) ? IpRanges.address(host).orElse(null) : null;
            if (ip == null)
                throw new IllegalArgumentException(quote(raw) + " is an alternative spelling of an IP address; write IPv4 as a dotted quad without leading zeros");
            return new Address(ip, host);
        }
        if (name.length() > 253) throw new IllegalArgumentException("host " + quote(raw) + " is longer than 253 characters");
        boolean idn = false;
        for (String label : labels) {
            if (!LABEL.matcher(label).matches()) throw new IllegalArgumentException(quote(raw) + " is not a valid host name");
            idn |= label.startsWith("xn--");
        }
        return new Name(name, idn);
    }

    private static EgressHost ipv6(String raw, String host) {
        if (!host.endsWith("]")) throw new IllegalArgumentException(quote(raw) + " is not a valid IPv6 literal");
        String inner = host.substring(1, host.length() - 1);
        if (inner.contains("."))
            throw new IllegalArgumentException(quote(raw) + " embeds an IPv4 address in IPv6 (IPv4-mapped or -compatible); use the IPv4 address");
        if (!inner.matches("[0-9a-f:]+") || !inner.contains(":"))
            throw new IllegalArgumentException(quote(raw) + " is not a valid IPv6 literal (zone ids are not allowed)");
        byte[] ip = IpRanges.address(inner).orElseThrow(() -> new IllegalArgumentException(quote(inner) + " is not a valid IP address"));
        // ::ffff:a.b.c.d in hex (::ffff:7f00:1) is another name for the IPv4 address: refused.
        boolean mapped = true;
        for (int i = 0; i < 10; i++) mapped &= ip[i] == 0;
        if (mapped && ip[10] == (byte) 0xff && ip[11] == (byte) 0xff)
            throw new IllegalArgumentException(quote(raw) + " is an IPv4-mapped IPv6 address; use the IPv4 address");
        return new Address(ip, host);
    }

    /** Client text in a reason: quoted, printable, at most 120 characters. */
    static String quote(String text) {
        StringBuilder b = new StringBuilder("\"");
        for (int i = 0; i < text.length() && i < 120; i++) {
            char c = text.charAt(i);
            b.append(c < 0x20 || c > 0x7e ? '?' : c);
        }
        return b.append(text.length() > 120 ? "...\"" : "\"").toString();
    }
}
