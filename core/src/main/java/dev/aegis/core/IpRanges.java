package dev.aegis.core;

import java.util.List;
import java.util.Optional;

/**
 * IP addresses as bytes, and the ranges egress treats specially: everything that is not the public internet, and
 * the cloud metadata addresses. A name may reach a non-public address only when an egress entry names that IP or
 * CIDR literally; a metadata address is refused even then, because it hands out the host's credentials and no
 * agent needs it. Pure functions on bytes: {@code core} parses address text itself and never asks a resolver.
 */
public final class IpRanges {
    /** An address block; an address matches when its first {@code bits} bits equal the block's. */
    public record Cidr(byte[] network, int bits) {
        /** {@code 10.0.0.0/8}, {@code 10.1.2.3}, {@code [2001:db8::/32]} or {@code 2001:db8::1}. */
        public static Cidr parse(String text) {
            String t = text.startsWith("[") && text.endsWith("]") ? text.substring(1, text.length() - 1) : text;
            int slash = t.indexOf('/');
            byte[] net = address(slash < 0 ? t : t.substring(0, slash))
                    .orElseThrow(() -> new IllegalArgumentException("\"" + text + "\" is not an address or CIDR"));
            int bits = net.length * 8;
            if (slash >= 0) {
                String b = t.substring(slash + 1);
                if (!b.matches("[0-9]{1,3}") || Integer.parseInt(b) > bits)
                    throw new IllegalArgumentException("\"" + text + "\" has a prefix length other than 0-" + bits);
                bits = Integer.parseInt(b);
            }
            return new Cidr(net, bits);
        }

        public boolean contains(byte[] ip) {
            if (ip.length != network.length) return false;
            for (int i = 0; i < bits; i++) {
                int mask = 0x80 >>> (i % 8);
                if ((ip[i / 8] & mask) != (network[i / 8] & mask)) return false;
            }
            return true;
        }
    }

    private record Range(Cidr cidr, String kind) {}

    private static final List<Cidr> METADATA = List.of(
            "169.254.169.254", // AWS, GCP, Azure, OpenStack, Oracle
            "169.254.170.2",   // AWS ECS task credentials
            "169.254.170.23",  // AWS EKS pod identity
            "100.100.100.200", // Alibaba Cloud
            "168.63.129.16",   // Azure WireServer (a public address)
            "192.0.0.192",     // Oracle Cloud (classic)
            "[fd00:ec2::254]", // AWS over IPv6
            "[fd00:ec2::23]")  // AWS EKS pod identity over IPv6
            .stream().map(Cidr::parse).toList();

    // More specific ranges first: the first match names the kind in the deny reason.
    private static final List<Range> NON_PUBLIC = List.of(
            range("0.0.0.0/8", "unspecified"),
            range("10.0.0.0/8", "private"),
            range("100.64.0.0/10", "carrier-grade NAT"),
            range("127.0.0.0/8", "loopback"),
            range("169.254.0.0/16", "link-local"),
            range("172.16.0.0/12", "private"),
            range("192.0.0.0/24", "IETF protocol"),
            range("192.0.2.0/24", "documentation"),
            range("192.168.0.0/16", "private"),
            range("198.18.0.0/15", "benchmarking"),
            range("198.51.100.0/24", "documentation"),
            range("203.0.113.0/24", "documentation"),
            range("224.0.0.0/4", "multicast"),
            range("240.0.0.0/4", "reserved"),
            range("[::/128]", "unspecified"),
            range("[::1/128]", "loopback"),
            range("[::/96]", "IPv4-compatible"),
            range("[64:ff9b::/96]", "NAT64"),
            range("[64:ff9b:1::/48]", "NAT64"),
            range("[100::/64]", "discard"),
            range("[2001::/32]", "Teredo"),
            range("[2001:db8::/32]", "documentation"),
            range("[2002::/16]", "6to4"),
            range("[fc00::/7]", "unique-local"),
            range("[fe80::/10]", "link-local"),
            range("[fec0::/10]", "site-local"),
            range("[ff00::/8]", "multicast"));

    private IpRanges() {}

    /**
     * The bytes of an IPv4 dotted quad (no leading zeros, the only spelling egress accepts) or of an IPv6 address
     * in hex groups ({@code ::} at most once, no embedded IPv4, no zone); empty for anything else.
     */
    public static Optional<byte[]> address(String text) {
        return text.indexOf(':') >= 0 ? ipv6(text) : ipv4(text);
    }

    public static boolean isMetadata(byte[] ip) {
        return METADATA.stream().anyMatch(c -> c.contains(ip));
    }

    /** The kind of non-public range {@code ip} is in ("loopback", "private", ...), or empty when public. */
    public static Optional<String> nonPublic(byte[] ip) {
        for (Range r : NON_PUBLIC) if (r.cidr().contains(ip)) return Optional.of(r.kind());
        return Optional.empty();
    }

    private static Optional<byte[]> ipv4(String text) {
        String[] parts = text.split("\\.", -1);
        if (parts.length != 4) return Optional.empty();
        byte[] b = new byte[4];
        for (int i = 0; i < 4; i++) {
            String p = parts[i];
            // A leading zero reads as octal to inet_aton (010 is 8) but as decimal elsewhere: refuse the ambiguity.
            if (!p.matches("[0-9]{1,3}") || (p.length() > 1 && p.startsWith("0")) || Integer.parseInt(p) > 255)
                return Optional.empty();
            b[i] = (byte) Integer.parseInt(p);
        }
        return Optional.of(b);
    }

    private static Optional<byte[]> ipv6(String text) {
        String t = text.toLowerCase(java.util.Locale.ROOT);
        if (!t.matches("[0-9a-f:]+")) return Optional.empty();
        String[] halves = t.split("::", -1);
        if (halves.length > 2) return Optional.empty();
        List<String> head = groups(halves[0]), tail = halves.length == 2 ? groups(halves[1]) : List.of();
        if (head == null || tail == null) return Optional.empty();
        int given = head.size() + tail.size();
        if (halves.length == 2 ? given > 7 : given != 8) return Optional.empty();
        byte[] b = new byte[16];
        for (int i = 0; i < head.size(); i++) put(b, i, head.get(i));
        for (int i = 0; i < tail.size(); i++) put(b, 8 - tail.size() + i, tail.get(i));
        return Optional.of(b);
    }

    /** The colon-separated hex groups of one side of {@code ::}; null when one is empty or longer than 4 digits. */
    private static List<String> groups(String side) {
        if (side.isEmpty()) return List.of();
        List<String> g = List.of(side.split(":", -1));
        return g.stream().allMatch(s -> !s.isEmpty() && s.length() <= 4) ? g : null;
    }

    private static void put(byte[] b, int group, String hex) {
        int v = Integer.parseInt(hex, 16);
        b[2 * group] = (byte) (v >>> 8);
        b[2 * group + 1] = (byte) v;
    }

    private static Range range(String cidr, String kind) {
        return new Range(Cidr.parse(cidr), kind);
    }
}
