package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.api.RateLimits;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Request ids, security headers and per-key rate limits, through real HTTP. */
class GateTest {
    @TempDir
    Path dir;

    @Test
    void rateLimitsRequestIdsAndSecurityHeaders() throws Exception {
        Map<String, RateLimits.Limit> tight = Map.of("deploy", new RateLimits.Limit(1, 1), "run", new RateLimits.Limit(2, 1),
                "read", new RateLimits.Limit(3, 1));
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()).withRateLimits(tight))) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            Http.Response first = http.send(http.builder("/v1/agents").header("X-Request-Id", "trace-42").GET());
            assertThat(first.status()).isEqualTo(200);
            assertThat(first.raw().headers().firstValue("X-Request-Id")).contains("trace-42");
            assertThat(first.raw().headers().firstValue("RateLimit-Limit")).contains("3");
            assertThat(first.raw().headers().firstValue("RateLimit-Remaining")).contains("2");
            assertThat(first.raw().headers().firstValue("X-Content-Type-Options")).contains("nosniff");
            assertThat(first.raw().headers().firstValue("Cache-Control")).contains("no-store");
            http.get("/v1/agents");
            http.get("/v1/tasks");
            Http.Response over = http.get("/v1/agents");
            assertThat(over.status()).isEqualTo(429);
            assertThat(over.body().path("error").path("code").asText()).isEqualTo("rate_limited");
            assertThat(over.raw().headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Long.parseLong(v)).isBetween(1L, 2L));
            assertThat(over.raw().headers().firstValue("RateLimit-Remaining")).contains("0");
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
}
