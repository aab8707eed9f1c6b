package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.OperatorLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The resource layer on a node: each of cpu, memory, pids, disk and timeout is capped by the operator's ceiling and a
 * manifest above one is refused at deploy, before anything is installed or booted; at the ceilings it runs.
 */
class ResourceCeilingsTest {
    static final OperatorLimits TIGHT = new OperatorLimits(1, 256L << 20, 32, 32L << 20, Duration.ofSeconds(20));

    @TempDir
    Path dir;

    @Test
    void eachCeilingRefusesAtDeployAndTheCeilingsThemselvesRun() throws Exception {
        Path data = dir.resolve("data");
        // Each manifest is within every ceiling but one.
        String fit = "cpu: 1, memory: 256Mi, pids: 32, disk: 32Mi, timeout: 20s";
        Map<String, String[]> over = Map.of(
                "cpu", new String[]{"{" + fit.replace("cpu: 1", "cpu: 1.5") + "}", "resources.cpu: asks 1.5, above the operator ceiling of 1"},
                "memory", new String[]{"{" + fit.replace("256Mi", "257Mi") + "}", "resources.memory: asks 257Mi, above the operator ceiling of 256Mi"},
                "pids", new String[]{"{" + fit.replace("pids: 32", "pids: 33") + "}", "resources.pids: asks 33, above the operator ceiling of 32"},
                "disk", new String[]{"{" + fit.replace("disk: 32Mi", "disk: 33Mi") + "}", "resources.disk: asks 33Mi, above the operator ceiling of 32Mi"},
                "timeout", new String[]{"{" + fit.replace("20s", "21s") + "}", "resources.timeout: asks 21s, above the operator ceiling of 20s"},
                "defaults", new String[]{"{cpu: 1, memory: 256Mi, pids: 32, timeout: 20s}", "resources.disk: asks 64Mi, above the operator "
                        + "ceiling of 32Mi (64Mi is the default when resources.disk is not set; set it to at most 32Mi)"});
        try (Node node = new Node(Node.Config.embedded(data).withApi("127.0.0.1", 0, List.of()).with(TIGHT, 4, Duration.ofMinutes(5)))) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            for (Map.Entry<String, String[]> o : over.entrySet()) {
                String name = "greedy-" + o.getKey();
                Http.Response r = http.upload("/v1/agents", TarGz.pack(agent(name, o.getValue()[0])));
                assertThat(r.status()).as(name + ": " + r.body()).isEqualTo(403);
                assertThat(r.body().path("error").path("code").asText()).isEqualTo("policy_denied");
                assertThat(r.body().path("error").path("field").asText()).isEqualTo("resources");
                assertThat(r.body().path("error").path("message").asText()).isEqualTo(o.getValue()[1]);
                assertThat(http.get("/v1/agents/" + name).status()).isEqualTo(404);
                assertThat(data.resolve("agents/default/" + name)).as("nothing installed").doesNotExist();
                JsonNode audit = http.get("/v1/audit?action=policy.resources&agent=" + name).body().path("records").get(0);
                assertThat(audit.path("decision").asText()).isEqualTo("deny");
                assertThat(audit.path("reason").asText()).isEqualTo(o.getValue()[1]);
            }
            assertThat(Leftovers.of(data)).as("no sandbox was booted for a refused deploy").isEmpty();

            Http.Response fits = http.upload("/v1/agents", TarGz.pack(agent("frugal", "{" + fit + "}")));
            assertThat(fits.status()).as(fits.body().toString()).isEqualTo(201);
            JsonNode t = http.post("/v1/tasks", Map.of("agent", "frugal", "wait", true)).body();
            assertThat(t.path("state").asText()).as(t.toString()).isEqualTo("succeeded");
        }
        // Ceilings lowered after a deploy: the agent's next task is refused before any sandbox boots.
        OperatorLimits lower = new OperatorLimits(1, 128L << 20, 32, 32L << 20, Duration.ofSeconds(20));
        try (Node node = new Node(Node.Config.embedded(data).withApi("127.0.0.1", 0, List.of()).with(lower, 4, Duration.ofMinutes(5)))) {
            Http http = new Http(node.url(), node.keys().create("default", "admin").plaintext());
            JsonNode t = http.post("/v1/tasks", Map.of("agent", "frugal", "wait", true)).body();
            assertThat(t.path("state").asText()).isEqualTo("failed");
            assertThat(t.path("error").path("code").asText()).isEqualTo("policy_denied");
            assertThat(t.path("error").path("message").asText()).contains("resources.memory: asks 256Mi, above the operator ceiling of 128Mi");
            List<String> states = new ArrayList<>();
            t.path("lifecycle").forEach(s -> states.add(s.path("state").asText()));
            assertThat(states).containsExactly("cold", "failed");
        }
    }

    @Test
    void aServerRefusesCeilingsThatAreNotAboveZero() {
        CliTest.Run cpu = CliTest.aegis("server", "--port", "0", "--data", dir.resolve("data").toString(), "--max-cpu", "0");
        assertThat(cpu.code()).isEqualTo(2);
        assertThat(cpu.err()).contains("--max-cpu").contains("must be above zero");
        CliTest.Run pids = CliTest.aegis("server", "--port", "0", "--data", dir.resolve("data").toString(), "--max-pids", "-3");
        assertThat(pids.err()).contains("--max-pids: -3 must be above zero");
        CliTest.Run memory = CliTest.aegis("server", "--port", "0", "--data", dir.resolve("data").toString(), "--max-memory", "0");
        assertThat(memory.err()).contains("--max-memory").contains("must be more than 0");
        assertThat(dir.resolve("data/aegis.db")).as("refused before anything starts").doesNotExist();
    }

    private Path agent(String name, String resources) throws Exception {
        Path d = Files.createDirectories(dir.resolve("agents/" + name));
        Files.writeString(d.resolve("agent.yaml"), "name: " + name + "\nversion: 1.0.0\nruntime: bubblewrap\n"
                + "entrypoint: [\"sh\", \"-c\", \"echo '{}'\"]\nresources: " + resources + "\n");
        return d;
    }
}
