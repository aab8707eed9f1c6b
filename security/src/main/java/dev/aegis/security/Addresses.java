package dev.aegis.security;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * The address ranges the proxy will not reach through a name: everything that is not the public internet.
 * An egress entry that names such an address or CIDR literally opts in to it; cloud metadata addresses are
 * refused even then, because they hand out the host's credentials and no agent needs them.
 */
final class Addresses {
    /** An address block; an address matches when its first {@code bits} bits equal the block's. */
    record Cidr(byte[] network, int bits) {
        static Cidr parse(String text) {
            String t = text.startsWith("[") ? text.substring(1, text.length() - 1) : text;
            int slash = t.indexOf('/');
            try {
                byte[] net = InetAddress.getByName(slash < 0 ? t : t.substring(0, slash)).getAddress();
                int bits = slash < 0 ? net.length * 8 : Integer.parseInt(t.substring(slash + 1));
                return new Cidr(net, bits);
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException(Reasons.quote(text) + " is not an address or CIDR");
            }
        }

        boolean contains(InetAddress ip) {
            byte[] a = ip.getAddress();
            if (a.length != network.length) return false;
            for (int i = 0; i < bits; i++) {
                int mask = 0x80 >>> (i % 8);
                if ((a[i / 8] & mask) != (network[i / 8] & mask)) return false;
            }
            return true;
        }
    }

    private record Range(Cidr cidr, String kind) {}

    private static final List<Cidr> METADATA = cidrs(
            "169.254.169.254", // AWS, GCP, Azure, OpenStack, Oracle
            "169.254.170.2",   // AWS ECS task credentials
            "169.254.170.23",  // AWS EKS pod identity
            "100.100.100.200", // Alibaba Cloud
            "168.63.129.16",   // Azure WireServer (a public address)
            "192.0.0.192",     // Oracle Cloud (classic)
            "[fd00:ec2::254]", // AWS over IPv6
            "[fd00:ec2::23]"); // AWS EKS pod identity over IPv6

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

    private Addresses() {}

    static boolean isMetadata(InetAddress ip) {
        return METADATA.stream().anyMatch(c -> c.contains(ip));
    }

    /** The kind of non-public range {@code ip} is in ("loopback", "private", ...), or empty when public. */
    static Optional<String> nonPublic(InetAddress ip) {
        for (Range r : NON_PUBLIC) if (r.cidr().contains(ip)) return Optional.of(r.kind());
        return Optional.empty();
    }

    private static List<Cidr> cidrs(String... texts) {
        return List.of(texts).stream().map(Cidr::parse).toList();
    }

    private static Range range(String cidr, String kind) {
        return new Range(Cidr.parse(cidr), kind);
    }
}
