package dev.aegis.core;

import java.util.List;
import java.util.Optional;
import java.util.TreeSet;

/**
 * The egress decision on an agent's {@code permissions.network.egress} entries, without DNS: {@link Policy#egress}
 * answers with it, and the egress proxy asks it before it resolves a name and again for each address it resolved,
 * so the matching exists once. A name must match a name entry (exact, or {@code *.domain} for names below the
 * domain) on that port; an IP literal must match an address entry on that port; cloud metadata addresses are
 * always refused. Each address a name resolves to must be public, or named by an address entry on that port
 * ({@link #refusal}).
 */
public final class EgressRules {
    /** The outcome before any resolution. */
    public sealed interface Verdict {
        /**
         * The entries allow it: an IP literal may be connected to; a name may be resolved, and each address it
         * yields checked with {@link #refusal}. With {@code tlsRequired} only a TLS tunnel naming the host may pass.
         */
        record Allow(boolean tlsRequired) implements Verdict {}

        record Deny(String reason) implements Verdict {}
    }

    private static final String LIST = "permissions.network.egress";

    private EgressRules() {}

    public static Verdict check(List<EgressRule> rules, EgressHost host, int port) {
        if (port < 1 || port > 65535) return new Verdict.Deny("port " + port + " is not 1-65535");
        return switch (host) {
            case EgressHost.Address a -> address(rules, a, port);
            case EgressHost.Name n -> name(rules, n, port);
        };
    }

    /**
     * Why {@code ip}, an address a permitted name resolved to, may not be connected to on {@code port}; empty when
     * it may. {@code text} is how to name it in the reason.
     */
    public static Optional<String> refusal(List<EgressRule> rules, byte[] ip, String text, int port) {
        if (IpRanges.isMetadata(ip)) return Optional.of("cloud metadata address " + text + ", which is always denied");
        Optional<String> kind = IpRanges.nonPublic(ip);
        if (kind.isEmpty()) return Optional.empty();
        boolean listed = rules.stream().anyMatch(r -> !r.isName() && r.port() == port && IpRanges.Cidr.parse(r.host()).contains(ip));
        return listed ? Optional.empty()
                : Optional.of(kind.get() + " address " + text + ", which is denied unless an entry names it by IP on port " + port);
    }

    /** Exact names match themselves; {@code *.d} matches names ending in {@code .d}, never {@code d} itself nor punycode. */
    static boolean matches(String pattern, EgressHost.Name name) {
        if (!pattern.startsWith("*.")) return pattern.equals(name.text());
        if (name.idn()) return false;
        return name.text().endsWith(pattern.substring(1));
    }

    private static Verdict address(List<EgressRule> rules, EgressHost.Address a, int port) {
        if (IpRanges.isMetadata(a.ip())) return new Verdict.Deny(a.text() + " is a cloud metadata address, which is always denied");
        List<EgressRule> matching = rules.stream().filter(r -> !r.isName() && IpRanges.Cidr.parse(r.host()).contains(a.ip())).toList();
        if (matching.isEmpty()) return new Verdict.Deny(a.text() + ":" + port + " is not in " + LIST);
        if (matching.stream().noneMatch(r -> r.port() == port)) return wrongPort(a.text(), port, matching);
        return new Verdict.Allow(false);
    }

    private static Verdict name(List<EgressRule> rules, EgressHost.Name name, int port) {
        List<EgressRule> matching = rules.stream().filter(r -> r.isName() && matches(r.host(), name)).toList();
        if (matching.isEmpty()) {
            boolean wildcardOnly = name.idn() && rules.stream()
                    .anyMatch(r -> r.isName() && matches(r.host(), new EgressHost.Name(name.text(), false)));
            return new Verdict.Deny(wildcardOnly
                    ? name.text() + " is a punycode (IDN) name; only an entry naming it exactly allows it, not a wildcard"
                    : name.text() + ":" + port + " is not in " + LIST);
        }
        List<EgressRule> onPort = matching.stream().filter(r -> r.port() == port).toList();
        if (onPort.isEmpty()) return wrongPort(name.text(), port, matching);
        // Entries add up: a plain entry for the same name and port lifts a tls:// one.
        return new Verdict.Allow(onPort.stream().allMatch(EgressRule::tls));
    }

    private static Verdict wrongPort(String host, int port, List<EgressRule> matching) {
        TreeSet<Integer> ports = new TreeSet<>();
        matching.forEach(r -> ports.add(r.port()));
        return new Verdict.Deny("port " + port + " is not allowed for " + host + " (allowed: "
                + ports.toString().replaceAll("[\\[\\]]", "") + ")");
    }
}
