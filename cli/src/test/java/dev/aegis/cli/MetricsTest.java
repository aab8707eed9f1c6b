package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Prometheus metrics through real HTTP, after real tasks. */
class MetricsTest {
    @TempDir
    Path dir;

    @Test
    void metricsCountRequestsTasksBootsAndRejections() throws Exception {
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()))) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            assertThat(http.upload("/v1/agents", TarGz.pack(examples.resolve("summarizer"))).status()).isEqualTo(201);
            http.post("/v1/tasks", Map.of("agent", "summarizer", "wait", true, "input", Map.of("text", "A b. C d.")));
            http.post("/v1/tasks", Map.of("agent", "nope"));
            http.get("/v1/tasks/some-task-id");

            assertThat(new Http(node.url(), null).get("/metrics").status()).isEqualTo(401);
            String reader = node.keys().create("default", "reader").plaintext();
            assertThat(new Http(node.url(), reader).get("/metrics").status()).isEqualTo(403);
            var r = http.send(http.builder("/metrics").GET().header("Accept", "text/plain"));
            assertThat(r.status()).isEqualTo(200);
            String text = r.raw().body();
            assertThat(text).contains("aegis_tasks_ended_total{reason=\"completed\",state=\"succeeded\"} 1.0")
                    .contains("aegis_sandbox_boot_seconds_count{runtime=\"bubblewrap\"} 1")
                    .contains("aegis_tasks_queued").contains("aegis_instances_warm")
                    .contains("aegis_rejections_total{reason=\"not_found\"} 2.0")
                    .contains("route=\"/v1/tasks/{id}\"").doesNotContain("some-task-id")
                    .contains("jvm_memory_used_bytes");
        }
    }
}
