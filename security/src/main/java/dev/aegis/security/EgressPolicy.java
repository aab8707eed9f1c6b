package dev.aegis.security;

import dev.aegis.core.EgressHost;
import dev.aegis.core.EgressRule;
import dev.aegis.core.EgressRules;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Optional;

/**
 * Decides one connection attempt: {@link EgressRules} (in {@code core}, shared with {@code Policy.egress}) on the
 * host and port, then, for a name, the resolver's answers, each checked with {@link EgressRules#refusal}. The first
 * address that passes is the one the proxy connects to, so the IP checked is the IP connected.
 */
final class EgressPolicy {
    /** The outcome of one check. */
    sealed interface Verdict {
        /** Connect to exactly {@code ip}; when {@code tlsRequired}, only a TLS tunnel naming the host may pass. */
        record Allow(InetAddress ip, boolean tlsRequired) implements Verdict {}

        /** Refuse with this HTTP status and reason. */
        record Deny(int status, String reason) implements Verdict {}
    }

    private EgressPolicy() {}

    static Verdict check(List<EgressRule> rules, EgressHost host, int port, Resolver resolver) {
        return switch (EgressRules.check(rules, host, port)) {
            case EgressRules.Verdict.Deny(String reason) -> new Verdict.Deny(403, reason);
            case EgressRules.Verdict.Allow(boolean tls) -> switch (host) {
                case EgressHost.Address a -> new Verdict.Allow(literal(a), false);
                case EgressHost.Name n -> resolved(rules, n, port, tls, resolver);
            };
        };
    }

    private static Verdict resolved(List<EgressRule> rules, EgressHost.Name name, int port, boolean tls, Resolver resolver) {
        List<InetAddress> ips;
        try {
            ips = resolver.resolve(name.text());
        } catch (UnknownHostException e) {
            return new Verdict.Deny(502, name.text() + " does not resolve");
        }
        String firstProblem = null;
        for (InetAddress ip : ips) {
            Optional<String> problem = EgressRules.refusal(rules, ip.getAddress(), ip.getHostAddress(), port);
            if (problem.isEmpty()) return new Verdict.Allow(ip, tls);
            if (firstProblem == null) firstProblem = problem.get();
        }
        return new Verdict.Deny(403, name.text() + " resolves to " + (firstProblem == null ? "no address" : firstProblem));
    }

    /** The address of a literal; the JDK does no lookup when given the bytes. */
    private static InetAddress literal(EgressHost.Address a) {
        try {
            return InetAddress.getByAddress(a.ip());
        } catch (UnknownHostException e) {
            throw new IllegalStateException("an address of " + a.ip().length + " bytes", e);
        }
    }
}
