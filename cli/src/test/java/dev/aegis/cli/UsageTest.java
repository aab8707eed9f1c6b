package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.Orchestrator;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Metering from real tasks, and quotas that refuse with 429. */
class UsageTest {
    @TempDir
    Path dir;

    @Test
    void usageIsMeteredPerAgentAndQuotasRefuse() throws Exception {
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        Node.Config config = Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of())
                .withQuotas(new Orchestrator.Quotas(0, 0.000001));
        try (Node node = new Node(config)) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            assertThat(http.upload("/v1/agents", TarGz.pack(examples.resolve("summarizer"))).status()).isEqualTo(201);
            JsonNode t = http.post("/v1/tasks", Map.of("agent", "summarizer", "wait", true,
                    "input", Map.of("text", "First one. Second one."))).body();
            assertThat(t.path("state").asText()).isEqualTo("succeeded");

            JsonNode u = http.get("/v1/usage").body();
            JsonNode row = u.path("usage").get(0);
            assertThat(row.path("agent").asText()).isEqualTo("summarizer");
            assertThat(row.path("tasks").asLong()).isEqualTo(1);
            assertThat(row.path("cpu_seconds").asDouble()).isPositive();
            assertThat(row.path("memory_mib_seconds").asDouble()).isPositive();
            assertThat(row.path("wall_seconds").asDouble()).isPositive();
            assertThat(http.get("/v1/usage?group_by=tenant").body().path("usage").get(0).has("agent")).isFalse();
            assertThat(http.get("/v1/usage?from=2000-01-01T00:00:00Z&to=2000-01-02T00:00:00Z").body().path("usage")).isEmpty();
            assertThat(http.get("/v1/usage?group_by=week").body().path("error").path("field").asText()).isEqualTo("group_by");

            // The day's CPU quota is spent: the next task is refused, clearly.
            Http.Response refused = http.post("/v1/tasks", Map.of("agent", "summarizer", "input", Map.of("text", "x.")));
            assertThat(refused.status()).isEqualTo(429);
            assertThat(refused.body().path("error").path("code").asText()).isEqualTo("quota_exceeded");
            assertThat(refused.body().path("error").path("message").asText()).contains("CPU-seconds today");
            assertThat(refused.raw().headers().firstValue("Retry-After")).isPresent();

            CliTest.Run out = CliTest.aegis("usage", "--url", node.url(), "--key", node.firstAdminKey().orElseThrow());
            assertThat(out.code()).as(out.err()).isZero();
            assertThat(out.out()).contains("summarizer");
        }
    }

    @Test
    void concurrentTaskQuota() throws Exception {
        Path slow = java.nio.file.Files.createDirectories(dir.resolve("slow"));
        java.nio.file.Files.writeString(slow.resolve("agent.yaml"), """
                name: slow
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["sh", "-c", "sleep 600"]
                resources: {timeout: 10m}
                """);
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data2")).withQuotas(new Orchestrator.Quotas(1, 0)))) {
            var o = node.orchestrator();
            o.deploy("default", slow, "slow/agent.yaml");
            String first = o.submit("default", "slow", "{}").id();
            org.assertj.core.api.Assertions.assertThatThrownBy(() -> o.submit("default", "slow", "{}"))
                    .hasMessageContaining("quota is 1 at once");
            o.cancel("default", first);
            assertThat(o.submit("default", "slow", "{}").id()).isNotBlank();
        }
    }
}
