package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.AuditQuery;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped swarm example (examples/swarm-*) as the demo runs it: a tree of tasks and a correct shared ledger. */
class SwarmExampleTest {
    @TempDir
    Path dir;

    @Test
    void workersUpdateTheLedgerUnderTheLockAndTheCountIsExact() throws Exception {
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()))) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            for (String ex : List.of("swarm-coordinator", "swarm-worker"))
                assertThat(http.upload("/v1/agents", TarGz.pack(examples.resolve(ex))).status()).isEqualTo(201);
            JsonNode t = http.post("/v1/tasks", Map.of("agent", "swarm-coordinator", "wait", true,
                    "input", Map.of("workers", 4, "increments", 5))).body();
            assertThat(t.path("state").asText()).as(t.toString()).isEqualTo("succeeded");
            JsonNode r = t.path("result");
            assertThat(r.path("count").asInt()).isEqualTo(20);
            assertThat(r.path("correct").asBoolean()).isTrue();
            assertThat(r.path("writes").asInt()).isEqualTo(20);
            assertThat(r.path("tokens_increase").asBoolean()).isTrue();
            assertThat(r.path("workers").toString()).isEqualTo("[\"succeeded\",\"succeeded\",\"succeeded\",\"succeeded\"]");
            JsonNode children = http.get("/v1/tasks/" + t.path("id").asText() + "/children").body().path("children");
            assertThat(children).hasSize(4);
            long grants = 0;
            for (JsonNode c : children)
                grants += node.audit().query(AuditQuery.all(100).task(c.path("id").asText()).action("lock.grant")).size();
            assertThat(grants).isEqualTo(20);
        }
    }
}
