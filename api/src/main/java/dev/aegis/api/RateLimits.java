package dev.aegis.api;

import io.github.bucket4j.Bucket;
import io.github.bucket4j.ConsumptionProbe;
import io.github.bucket4j.TimeMeter;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Token buckets per API key and per tenant, one pair per route class ({@code deploy}, {@code run}, {@code read}).
 * Buckets live behind {@link Buckets} so a cluster can share them (Redis or PostgreSQL) without touching callers;
 * {@link Local} keeps them in this process.
 */
public final class RateLimits {
    /** A bucket of {@code capacity} tokens refilled at {@code perSecond}. */
    public record Limit(long capacity, long perSecond) {
        public static final long MAX_RATE = 1_000_000_000; // Bucket4j refills at most 1 token/ns

        public Limit {
            if (capacity < 1 || perSecond < 1 || perSecond > MAX_RATE)
                throw new IllegalArgumentException("rate limit " + capacity + "/" + perSecond
                        + ": need capacity >= 1 and 1 <= per second <= " + MAX_RATE);
        }
    }

    /**
     * What one request got: allowed or not, and what to tell the client in {@code RateLimit-*} headers.
     *
     * @param resetSeconds until the bucket is full again (allowed), or until the next token (refused: {@code Retry-After})
     */
    public record Verdict(boolean allowed, long limit, long remaining, long resetSeconds) {}

    /** Where buckets live. */
    public interface Buckets {
        Verdict take(String bucket, Limit limit);
    }

    /** In-process buckets (Bucket4j), on a clock that tests can drive. */
    public static final class Local implements Buckets {
        private final Map<String, Bucket> buckets = new ConcurrentHashMap<>();
        private final TimeMeter clock;

        public Local() {
            this(System::nanoTime);
        }

        /** Buckets refilled by {@code nanos}, a monotonic clock in nanoseconds. */
        public Local(LongSupplier nanos) {
            this.clock = new TimeMeter() {
                @Override
                public long currentTimeNanos() {
                    return nanos.getAsLong();
                }

                @Override
                public boolean isWallClockBased() {
                    return false;
                }
            };
        }

        @Override
        public Verdict take(String bucket, Limit limit) {
            Bucket b = buckets.computeIfAbsent(bucket, k -> Bucket.builder().withCustomTimePrecision(clock)
                    .addLimit(l -> l.capacity(limit.capacity()).refillGreedy(limit.perSecond(), Duration.ofSeconds(1)))
                    .build());
            ConsumptionProbe p = b.tryConsumeAndReturnRemaining(1);
            long nanos = p.isConsumed() ? p.getNanosToWaitForReset() : Math.max(1, p.getNanosToWaitForRefill());
            return new Verdict(p.isConsumed(), limit.capacity(), p.getRemainingTokens(), (nanos + 999_999_999L) / 1_000_000_000L);
        }
    }

    /** The route classes: each request draws from its key's and its tenant's bucket of one class. */
    public static final java.util.List<String> CLASSES = java.util.List.of("deploy", "run", "read");

    /**
     * Defaults per key: bursts big enough for a deploy script or a test suite, steady rates that stop a runaway client
     * long before it hurts the node. A tenant's defaults are 4x a key's ({@link #tenantDefaults}).
     */
    public static final Map<String, Limit> DEFAULTS = Map.of(
            "deploy", new Limit(60, 5), "run", new Limit(300, 100), "read", new Limit(1000, 500));

    /** A tenant's buckets when none are configured: room for four busy keys. */
    public static Map<String, Limit> tenantDefaults(Map<String, Limit> perKey) {
        Map<String, Limit> t = new java.util.HashMap<>();
        perKey.forEach((cls, k) -> t.put(cls, new Limit(Math.min(k.capacity() * 4, Long.MAX_VALUE / 8),
                Math.min(k.perSecond() * 4, Limit.MAX_RATE))));
        return Map.copyOf(t);
    }

    /**
     * Limits per key and per tenant for every route class, and where their buckets live.
     *
     * @param buckets in-process ({@link Local}) on one node; a shared store in a cluster
     */
    public record Config(Map<String, Limit> perKey, Map<String, Limit> perTenant, Buckets buckets) {
        public Config {
            for (String cls : CLASSES)
                if (!perKey.containsKey(cls) || !perTenant.containsKey(cls))
                    throw new IllegalArgumentException("rate limits need every route class " + CLASSES + "; missing " + cls);
            perKey = Map.copyOf(perKey);
            perTenant = Map.copyOf(perTenant);
        }

        /** {@code perKey}, tenants at their defaults, buckets in this process. */
        public static Config of(Map<String, Limit> perKey) {
            return new Config(perKey, tenantDefaults(perKey), new Local());
        }
    }

    private final Buckets buckets;
    private final Map<String, Limit> perKey;
    private final Map<String, Limit> perTenant;

    public RateLimits(Config config) {
        this.buckets = config.buckets();
        this.perKey = config.perKey();
        this.perTenant = config.perTenant();
    }

    /** Takes a token from the key's bucket and the tenant's; the tighter answer wins. */
    Verdict take(String keyId, String tenant, String routeClass) {
        Limit k = perKey.get(routeClass);
        Verdict byKey = buckets.take("key:" + keyId + ":" + routeClass, k);
        if (!byKey.allowed()) return byKey;
        Verdict byTenant = buckets.take("tenant:" + tenant + ":" + routeClass, perTenant.get(routeClass));
        return byTenant.allowed() && byTenant.remaining() >= byKey.remaining() ? byKey : byTenant;
    }

    /** Which bucket a request draws from: deploys, other changes (runs, cancels, keys), reads. */
    static String routeClass(String method, String path) {
        if (method.equals("GET")) return "read";
        if (method.equals("POST") && path.equals("/v1/agents")) return "deploy";
        return "run";
    }
}
