package dev.aegis.api;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Token buckets per API key and per tenant, one pair per route class ({@code deploy}, {@code run}, {@code read}).
 * Buckets live behind {@link Buckets} so a cluster can share them (Redis or PostgreSQL) without touching callers;
 * {@link Local} keeps them in this process.
 */
public final class RateLimits {
    /** A bucket of {@code capacity} tokens refilled at {@code perSecond}. */
    public record Limit(long capacity, long perSecond) {
        static final long MAX_RATE = 1_000_000_000; // Bucket4j refills at most 1 token/ns

        public Limit {
            if (capacity < 1 || perSecond < 1 || perSecond > MAX_RATE)
                throw new IllegalArgumentException("rate limit " + capacity + "/" + perSecond
                        + ": need capacity >= 1 and 1 <= per second <= " + MAX_RATE);
        }
    }

    /** What one request got: allowed or not, and what to tell the client in {@code RateLimit-*} headers. */
    public record Verdict(boolean allowed, long limit, long remaining, long resetSeconds) {}

    /** Where buckets live. */
    public interface Buckets {
        Verdict take(String bucket, Limit limit);
    }

    /** In-process buckets (Bucket4j). */
    public static final class Local implements Buckets {
        private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();

        @Override
        public Verdict take(String bucket, Limit limit) {
            Bucket b = buckets.computeIfAbsent(bucket, k -> Bucket.builder()
                    .addLimit(l -> l.capacity(limit.capacity()).refillGreedy(limit.perSecond(), Duration.ofSeconds(1)))
                    .build());
            ConsumptionProbe p = b.tryConsumeAndReturnRemaining(1);
            long reset = Math.max(1, (p.getNanosToWaitForRefill() + 999_999_999L) / 1_000_000_000L);
            return new Verdict(p.isConsumed(), limit.capacity(), p.getRemainingTokens(), p.isConsumed() ? 0 : reset);
        }
    }

    /**
     * Defaults per key (a tenant gets 4x): bursts big enough for a deploy script or a test suite, steady rates that
     * stop a runaway client long before it hurts the node.
     */
    public static final Map<String, Limit> DEFAULTS = Map.of(
            "deploy", new Limit(60, 5), "run", new Limit(300, 100), "read", new Limit(1000, 500));

    private final Buckets buckets;
    private final Map<String, Limit> perKey;
    private final Map<String, Limit> perTenant;

    public RateLimits(Buckets buckets, Map<String, Limit> perKey) {
        this.buckets = buckets;
        this.perKey = Map.copyOf(perKey);
        Map<String, Limit> t = new java.util.HashMap<>();
        perKey.forEach((cls, k) -> t.put(cls, new Limit(Math.min(k.capacity() * 4, Long.MAX_VALUE / 8),
                Math.min(k.perSecond() * 4, Limit.MAX_RATE))));
        this.perTenant = Map.copyOf(t);
    }

    /** Takes a token from the key's bucket and the tenant's; the tighter answer wins. */
    Verdict take(String keyId, String tenant, String routeClass) {
        Limit k = perKey.get(routeClass);
        Verdict byKey = buckets.take("key:" + keyId + ":" + routeClass, k);
        if (!byKey.allowed()) return byKey;
        Verdict byTenant = buckets.take("tenant:" + tenant + ":" + routeClass, perTenant.get(routeClass));
        return byTenant.allowed() && byTenant.remaining() >= byKey.remaining() ? byKey : byTenant;
    }

    /** Which bucket a request draws from. */
    static String routeClass(String method, String path) {
        if (method.equals("POST") && path.equals("/v1/agents")) return "deploy";
        if (method.equals("POST")) return "run";
        return "read";
    }
}
