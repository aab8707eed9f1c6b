package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.Hashes;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every deploy, task, policy decision and lifecycle step lands in the audit log, readable and verifiable. */
class AuditFlowTest {
    @TempDir
    Path dir;

    @Test
    void actionsAreAuditedQueryableAndVerifiable() throws Exception {
        Path data = dir.resolve("data");
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        Path greedy = Files.createDirectories(dir.resolve("greedy"));
        Files.writeString(greedy.resolve("agent.yaml"), """
                name: greedy
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["sh"]
                resources: {memory: 3Gi}
                """);
        String taskId;
        try (Node node = new Node(Node.Config.embedded(data).withApi("127.0.0.1", 0, List.of()))) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            String keyId = node.firstAdminKey().orElseThrow().substring(9, 21);
            assertThat(http.upload("/v1/agents", TarGz.pack(examples.resolve("summarizer"))).status()).isEqualTo(201);
            assertThat(http.upload("/v1/agents", TarGz.pack(greedy)).status()).isEqualTo(403);
            JsonNode task = http.post("/v1/tasks", Map.of("agent", "summarizer", "wait", true,
                    "input", Map.of("text", "One idea here. Another idea there.", "sentences", 1))).body();
            taskId = task.path("id").asText();

            JsonNode deploy = http.get("/v1/audit?action=agent.deploy").body().path("records").get(0);
            assertThat(deploy.path("actor").asText()).isEqualTo("key:" + keyId);
            assertThat(deploy.path("agent").asText()).isEqualTo("summarizer");
            JsonNode denied = http.get("/v1/audit?action=policy.resources&agent=greedy").body().path("records").get(0);
            assertThat(denied.path("decision").asText()).isEqualTo("deny");
            assertThat(denied.path("reason").asText()).contains("3Gi");

            List<String> actions = new ArrayList<>();
            http.get("/v1/audit?task=" + taskId).body().path("records").forEach(r -> actions.add(r.path("action").asText()));
            actions.remove("memory.index"); // the memory's indexing of the ended task, recorded whenever it gets to it
            assertThat(actions).containsExactly("lifecycle.cold", "lifecycle.warm", "lifecycle.hot",
                    "lifecycle.terminated", "task.result");
            JsonNode accepted = http.get("/v1/audit?task=" + taskId).body().path("records").get(0);
            assertThat(accepted.path("actor").asText()).as("the submitter").isEqualTo("key:" + keyId);
            assertThat(accepted.path("details").path("input_sha256").asText()).hasSize(64);
            JsonNode result = http.get("/v1/audit?task=" + taskId + "&action=task.result").body().path("records").get(0);
            String stored = Http.JSON.writeValueAsString(task.path("result"));
            assertThat(result.path("details").path("result_sha256").asText()).isEqualTo(Hashes.sha256(stored));

            assertThat(http.get("/v1/audit/verify").body().path("intact").asBoolean()).isTrue();
            assertThat(http.get("/v1/audit?since=2000-01-01T00:00:00Z&limit=2").body().path("records")).hasSize(2);
            assertThat(http.get("/v1/audit?since=yesterday").status()).isEqualTo(400);

            String reader = node.keys().create("other", "reader").plaintext();
            Http other = new Http(node.url(), reader);
            assertThat(other.get("/v1/audit").body().path("records")).isEmpty();
            assertThat(other.get("/v1/audit?tenant=default").status()).isEqualTo(403);
            assertThat(other.get("/v1/audit/verify").status()).isEqualTo(403);
            assertThat(other.get("/v1/audit/1/proof").status()).as("another tenant's record").isEqualTo(404);
        }

        // After a clean shutdown every record is under a signed checkpoint; the files verify offline.
        CliTest.Run ok = CliTest.aegis("audit", "verify", "--data", data.toString());
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).startsWith("intact:");
        assertThat(CliTest.aegis("audit", "pubkey", "--data", data.toString()).out()).startsWith("-----BEGIN PUBLIC KEY-----");
        CliTest.Run archived = CliTest.aegis("audit", "archive", "--before", "1000000", "--data", data.toString());
        assertThat(archived.code()).as(archived.err()).isZero();
        assertThat(archived.out()).startsWith("archived ");
        assertThat(CliTest.aegis("audit", "verify", "--data", data.toString()).code()).isZero();

        // One edited byte: verify names a record, and a node refuses to start on the broken chain.
        Path segment;
        try (Stream<Path> s = Files.list(data.resolve("audit/segments"))) {
            segment = s.filter(p -> p.toString().endsWith(".log")).sorted().reduce((a, b) -> b).orElseThrow();
        }
        // The newest segment's last mention: a node checks the tail of the log at start, not all of it.
        String text = Files.readString(segment, StandardCharsets.UTF_8);
        int at = text.lastIndexOf("summarizer");
        Files.writeString(segment, text.substring(0, at) + "summarizes" + text.substring(at + "summarizer".length()), StandardCharsets.UTF_8);
        CliTest.Run bad = CliTest.aegis("audit", "verify", "--data", data.toString());
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.out()).startsWith("BROKEN at record ");
        assertThatThrownBy(() -> new Node(Node.Config.embedded(data))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("audit log").hasMessageContaining("damaged at record");
        assertThat(taskId).isNotBlank();
    }
}
