package dev.aegis.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** Token buckets on a clock the test moves: refill, reset and retry times exactly, without sleeping. */
class RateLimitsTest {
    private static final long SECOND = 1_000_000_000L;
    private final AtomicLong now = new AtomicLong(1_000 * SECOND);
    private final Map<String, RateLimits.Limit> perKey = Map.of("deploy", new RateLimits.Limit(1, 1),
            "run", new RateLimits.Limit(3, 1), "read", new RateLimits.Limit(4, 2));

    private RateLimits limits(Map<String, RateLimits.Limit> perTenant) {
        return new RateLimits(new RateLimits.Config(perKey, perTenant, new RateLimits.Local(now::get)));
    }

    @Test
    void aBucketEmptiesThenRefillsAtItsRate() {
        RateLimits limits = limits(RateLimits.tenantDefaults(perKey));
        assertThat(limits.take("k1", "t", "run")).isEqualTo(new RateLimits.Verdict(true, 3, 2, 1));
        assertThat(limits.take("k1", "t", "run")).isEqualTo(new RateLimits.Verdict(true, 3, 1, 2));
        assertThat(limits.take("k1", "t", "run")).isEqualTo(new RateLimits.Verdict(true, 3, 0, 3));
        // Empty: refused, the next token in 1 s (1 per second).
        assertThat(limits.take("k1", "t", "run")).isEqualTo(new RateLimits.Verdict(false, 3, 0, 1));
        now.addAndGet(SECOND / 2);
        assertThat(limits.take("k1", "t", "run")).as("half a token is not a token").isEqualTo(new RateLimits.Verdict(false, 3, 0, 1));
        now.addAndGet(SECOND / 2);
        assertThat(limits.take("k1", "t", "run")).isEqualTo(new RateLimits.Verdict(true, 3, 0, 3));
        // Long idle: full again, never more than the capacity.
        now.addAndGet(3600 * SECOND);
        assertThat(limits.take("k1", "t", "run")).isEqualTo(new RateLimits.Verdict(true, 3, 2, 1));
    }

    @Test
    void retryAfterRoundsUpToWholeSeconds() {
        RateLimits limits = limits(RateLimits.tenantDefaults(perKey));
        limits.take("k", "t", "deploy");
        assertThat(limits.take("k", "t", "deploy").resetSeconds()).isEqualTo(1);
        now.addAndGet(SECOND - 1);
        assertThat(limits.take("k", "t", "deploy")).isEqualTo(new RateLimits.Verdict(false, 1, 0, 1));
        now.addAndGet(1);
        assertThat(limits.take("k", "t", "deploy").allowed()).isTrue();
        // read refills 2 per second: the next token is half a second away, said as 1 s.
        for (int i = 0; i < 4; i++) limits.take("k", "t", "read");
        assertThat(limits.take("k", "t", "read")).isEqualTo(new RateLimits.Verdict(false, 4, 0, 1));
    }

    @Test
    void keysAndClassesHaveTheirOwnBucketsAndTheTenantCapsThemAll() {
        RateLimits limits = limits(Map.of("deploy", new RateLimits.Limit(1, 1), "run", new RateLimits.Limit(4, 1),
                "read", new RateLimits.Limit(100, 100)));
        for (int i = 0; i < 3; i++) assertThat(limits.take("a", "t", "run").allowed()).isTrue();
        assertThat(limits.take("a", "t", "run").allowed()).isFalse();
        assertThat(limits.take("a", "t", "read").allowed()).as("another class").isTrue();
        // Key b has a full bucket of its own, but the tenant has one token left: the tighter answer wins.
        assertThat(limits.take("b", "t", "run")).isEqualTo(new RateLimits.Verdict(true, 4, 0, 4));
        assertThat(limits.take("b", "t", "run")).isEqualTo(new RateLimits.Verdict(false, 4, 0, 1));
        // Another tenant is not touched.
        assertThat(limits.take("c", "u", "run")).isEqualTo(new RateLimits.Verdict(true, 3, 2, 1));
    }

    @Test
    void limitsAreValidated() {
        assertThatThrownBy(() -> new RateLimits.Limit(0, 1)).hasMessageContaining("capacity >= 1");
        assertThatThrownBy(() -> new RateLimits.Limit(1, 2_000_000_000L)).hasMessageContaining("per second <= 1000000000");
        assertThatThrownBy(() -> RateLimits.Config.of(Map.of("read", new RateLimits.Limit(1, 1)))).hasMessageContaining("missing");
    }

    @Test
    void routeClasses() {
        assertThat(RateLimits.routeClass("POST", "/v1/agents")).isEqualTo("deploy");
        assertThat(RateLimits.routeClass("POST", "/v1/tasks")).isEqualTo("run");
        assertThat(RateLimits.routeClass("DELETE", "/v1/keys/x")).isEqualTo("run");
        assertThat(RateLimits.routeClass("GET", "/v1/tasks")).isEqualTo("read");
    }
}
