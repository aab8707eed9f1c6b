package dev.aegis.api;

import dev.aegis.core.AegisException;
import dev.aegis.core.ApiKey;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What every request passes on its way in and out: a request id (the client's {@code X-Request-Id} when sane, else a
 * new one) echoed in the response, security headers, per-key rate limits with {@code RateLimit-*} headers, and one
 * JSON access-log line.
 */
final class Gate {
    private static final Logger ACCESS = LoggerFactory.getLogger("dev.aegis.api.access");
    private static final Pattern SANE_ID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
    static final String STARTED = "aegis.started";
    static final String ERROR = "aegis.error";
    private final RateLimits limits;
    private Metrics metrics;

    Gate(RateLimits limits) {
        this.limits = limits;
    }

    void metrics(Metrics m) {
        this.metrics = m;
    }

    /** Before routing: id, headers, clock. */
    void open(Context ctx) {
        ctx.attribute(STARTED, System.nanoTime());
        String given = ctx.header("X-Request-Id");
        // Added, not set: the response has none of them yet, and setting one first searches for it.
        var res = ctx.res();
        res.addHeader("X-Request-Id", given != null && SANE_ID.matcher(given).matches() ? given : requestId());
        res.addHeader("X-Content-Type-Options", "nosniff");
        res.addHeader("X-Frame-Options", "DENY");
        res.addHeader("Referrer-Policy", "no-referrer");
        res.addHeader("Cache-Control", "no-store");
        res.addHeader("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'");
    }

    /**
     * A random version-4 UUID from a fast generator: request ids need to be unique, not unguessable, and
     * {@code UUID.randomUUID()} serializes every request on the shared SecureRandom.
     */
    private static String requestId() {
        var r = java.util.concurrent.ThreadLocalRandom.current();
        return new UUID(r.nextLong() & ~0xF000L | 0x4000L, r.nextLong() & 0x3FFFFFFFFFFFFFFFL | 0x8000000000000000L).toString();
    }

    /** After authentication: the key's buckets; over the limit is a 429 with {@code Retry-After}. */
    void limit(Context ctx, ApiKey key) {
        RateLimits.Verdict v = limits.take(key.id(), key.tenant(), RateLimits.routeClass(ctx.method().name(), ctx.path()));
        var res = ctx.res();
        res.addHeader("RateLimit-Limit", Long.toString(v.limit()));
        res.addHeader("RateLimit-Remaining", Long.toString(v.remaining()));
        res.addHeader("RateLimit-Reset", Long.toString(v.resetSeconds()));
        if (!v.allowed()) {
            ctx.header("Retry-After", Long.toString(v.resetSeconds()));
            throw new AegisException("rate_limited", "rate limit of " + v.limit() + " requests reached for this key; retry in "
                    + v.resetSeconds() + " s");
        }
    }

    /** The matched route template, so metrics do not grow a series per task id; "unmatched" for 404s. */
    private static String routeOf(Context ctx) {
        try {
            var matched = ctx.endpoints().matchedHttpEndpoint();
            return matched == null ? "unmatched" : matched.path;
        } catch (RuntimeException e) {
            return "unmatched";
        }
    }

    /** After everything, errors included: one access-log line. */
    void close(Context ctx, ApiKey key) {
        Long started = ctx.attribute(STARTED);
        if (metrics != null && started != null) {
            metrics.request(ctx.method().name(), routeOf(ctx), ctx.status().getCode(), System.nanoTime() - started);
            String error = ctx.attribute(ERROR);
            if (error != null) metrics.rejected(error);
        }
        if (!ACCESS.isInfoEnabled()) return; // off outside `aegis server`: build no line at all
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("request_id", ctx.res().getHeader("X-Request-Id"));
        line.put("method", ctx.method().name());
        line.put("path", ctx.path());
        line.put("status", ctx.status().getCode());
        line.put("ms", started == null ? 0 : (System.nanoTime() - started) / 1_000_000.0);
        if (key != null) line.put("key", key.id());
        try {
            ACCESS.info(Bodies.JSON.writeValueAsString(line));
        } catch (Exception e) {
            ACCESS.info("{}", line);
        }
    }
}
