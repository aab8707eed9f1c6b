package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.api.RateLimits;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Request ids, security headers and per-key rate limits, through real HTTP, on a rate-limit clock the test moves. */
class GateTest {
    @TempDir
    Path dir;

    @Test
    void rateLimitsRequestIdsAndSecurityHeaders() throws Exception {
        Map<String, RateLimits.Limit> tight = Map.of("deploy", new RateLimits.Limit(1, 1), "run", new RateLimits.Limit(2, 1),
                "read", new RateLimits.Limit(3, 1));
        AtomicLong clock = new AtomicLong(0);
        RateLimits.Config rates = new RateLimits.Config(tight, RateLimits.tenantDefaults(tight), new RateLimits.Local(clock::get));
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()).withRateLimits(rates))) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            Http.Response first = http.send(http.builder("/v1/agents").header("X-Request-Id", "trace-42").GET());
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.raw().headers().firstValue("X-Request-Id")).contains("trace-42");
            assertThat(first.raw().headers().firstValue("RateLimit-Limit")).contains("3");
            assertThat(first.raw().headers().firstValue("RateLimit-Remaining")).contains("2");
            assertThat(first.raw().headers().firstValue("RateLimit-Reset")).as("1 token at 1/s: full again in 1 s").contains("1");
            assertThat(first.raw().headers().firstValue("X-Content-Type-Options")).contains("nosniff");
            assertThat(first.raw().headers().firstValue("Cache-Control")).contains("no-store");
            assertThat(headers(http.get("/v1/agents"))).isEqualTo("200 limit=3 remaining=1 reset=2 retry=-");
            assertThat(headers(http.get("/v1/tasks"))).isEqualTo("200 limit=3 remaining=0 reset=3 retry=-");
            Http.Response over = http.get("/v1/agents");
            assertThat(headers(over)).isEqualTo("429 limit=3 remaining=0 reset=1 retry=1");
            assertThat(over.body().path("error").path("code").asText()).isEqualTo("rate_limited");
            assertThat(over.body().path("error").path("message").asText()).contains("retry in 1 s");
            // Half a second later there is still no token; a second later there is one, and the bucket is empty again.
            clock.addAndGet(500_000_000L);
            assertThat(headers(http.get("/v1/agents"))).isEqualTo("429 limit=3 remaining=0 reset=1 retry=1");
            clock.addAndGet(500_000_000L);
            assertThat(headers(http.get("/v1/agents"))).isEqualTo("200 limit=3 remaining=0 reset=3 retry=-");
            // An hour idle fills the bucket to its capacity, no more.
            clock.addAndGet(3_600_000_000_000L);
            assertThat(headers(http.get("/v1/agents"))).isEqualTo("200 limit=3 remaining=2 reset=1 retry=-");
            // Another route class has its own bucket; another key has its own buckets.
            assertThat(http.post("/v1/tasks", Map.of("agent", "none")).status()).isEqualTo(404);
            Http other = new Http(node.url(), node.keys().create("default", "reader").plaintext());
            assertThat(other.get("/v1/agents").status()).isEqualTo(200);

            Http.Response anonymous = new Http(node.url(), null).get("/v1/agents");
            assertThat(anonymous.status()).isEqualTo(401);
            assertThat(anonymous.raw().headers().firstValue("X-Request-Id")).hasValueSatisfying(v -> assertThat(v).hasSize(36));
            Http.Response bogusId = http.send(http.builder("/healthz").header("X-Request-Id", "bad id with spaces").GET());
            assertThat(bogusId.raw().headers().firstValue("X-Request-Id")).hasValueSatisfying(v -> assertThat(v).doesNotContain(" "));
        }
    }

    private static String headers(Http.Response r) {
        var h = r.raw().headers();
        return r.status() + " limit=" + h.firstValue("RateLimit-Limit").orElse("-") + " remaining=" + h.firstValue("RateLimit-Remaining").orElse("-")
                + " reset=" + h.firstValue("RateLimit-Reset").orElse("-") + " retry=" + h.firstValue("Retry-After").orElse("-");
    }
}
