package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.core.OperatorLimits;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Task;
import dev.aegis.core.Transition;
import dev.aegis.runtime.bubblewrap.BubblewrapRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Warm pools with real bubblewrap sandboxes: pre-booted, one task each, refilled, shrunk when idle. */
class WarmPoolTest {
    @TempDir
    Path dir;

    Path agent(String yamlExtra) throws Exception {
        Path a = Files.createDirectories(dir.resolve("pooled"));
        // Prints the pid namespace's view of itself and a marker file: a reused instance would find its own marker.
        Files.writeString(a.resolve("agent.yaml"), """
                name: pooled
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["sh", "-c", "cat >/dev/null; [ -e /workspace/used ] && echo reused >&2; touch /workspace/used; echo '{\\"ok\\": true}'"]
                """ + yamlExtra);
        return a;
    }

    @Test
    void tasksTakeWarmInstancesOnceAndThePoolRefills() throws Exception {
        Path data = dir.resolve("data");
        try (Node node = new Node(Node.Config.embedded(data))) {
            Orchestrator o = node.orchestrator();
            o.deploy("default", agent("pool: {warm: 2, max: 4}\n"), "pooled/agent.yaml");
            CrashRecoveryTest.waitFor(() -> o.warmCount() == 2);
            assertThat(Leftovers.of(data)).as("two sandboxes are up before any task")
                    .filteredOn(s -> s.startsWith("folder")).hasSize(2);

            Set<String> instances = new HashSet<>();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 6; i++) ids.add(o.submit("default", "pooled", "{}").id());
            for (String id : ids) {
                Task t = o.await("default", id, Duration.ofSeconds(30));
                assertThat(t.state().name()).as(t.toString()).isEqualTo("SUCCEEDED");
                assertThat(o.logs("default", id, 0)).as("no instance ran two tasks").isEmpty();
                List<Transition> steps = o.transitions("default", id);
                instances.add(steps.getLast().instanceId());
            }
            assertThat(instances).as("every task had its own instance").hasSize(6);
            assertThat(o.transitions("default", ids.getFirst()).get(1).reason()).contains("warm pool");
            CrashRecoveryTest.waitFor(() -> o.warmCount() == 2);
        }
        assertThat(Leftovers.of(data)).isEmpty();
    }

    @Test
    void idlePoolsShrinkToZeroAndComeBackOnDemand() throws Exception {
        Path data = dir.resolve("data");
        // 2 s of idle: long enough that a spawn on a loaded machine finishes before its pool may shrink.
        try (Node node = new Node(Node.Config.embedded(data).with(OperatorLimits.DEFAULT, 8, Duration.ofSeconds(2)))) {
            Orchestrator o = node.orchestrator();
            o.deploy("default", agent("pool: {warm: 1, max: 2}\n"), "pooled/agent.yaml");
            CrashRecoveryTest.waitFor(() -> o.warmCount() == 1);
            CrashRecoveryTest.waitFor(() -> o.warmCount() == 0 && Leftovers.of(data).isEmpty());
            String id = o.submit("default", "pooled", "{}").id();
            assertThat(o.await("default", id, Duration.ofSeconds(30)).state().name()).isEqualTo("SUCCEEDED");
            CrashRecoveryTest.waitFor(() -> o.warmCount() == 1);
        }
        assertThat(Leftovers.of(data)).isEmpty();
    }

    @Test
    void operatorsListAndForceTerminateInstancesInAnyState() throws Exception {
        Path data = dir.resolve("data");
        Path slow = Files.createDirectories(dir.resolve("slow"));
        Files.writeString(slow.resolve("agent.yaml"), """
                name: slow
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["sh", "-c", "echo up >&2; sleep 600"]
                resources: {timeout: 10m}
                pool: {warm: 2, max: 3}
                """);
        try (Node node = new Node(Node.Config.embedded(data).withApi("127.0.0.1", 0, List.of()))) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            assertThat(http.upload("/v1/agents", TarGz.pack(slow)).status()).isEqualTo(201);
            CrashRecoveryTest.waitFor(() -> http.get("/v1/instances").body().path("instances").size() == 2);
            var warm = http.get("/v1/instances").body().path("instances").get(0);
            assertThat(warm.path("state").asText()).isEqualTo("warm");
            assertThat(warm.path("usage").path("uptime_ms").asLong()).isGreaterThanOrEqualTo(0);
            String warmId = warm.path("id").asText();

            var killed = http.post("/v1/instances/" + warmId + "/terminate", Map.of());
            assertThat(killed.status()).isEqualTo(200);
            assertThat(killed.body().path("state").asText()).isEqualTo("terminated");
            assertThat(BubblewrapRuntime.instanceRoot(data.resolve("run/bubblewrap")).resolve(warmId)).doesNotExist();
            CrashRecoveryTest.waitFor(() -> http.get("/v1/instances").body().path("instances").size() == 2);
            assertThat(http.get("/v1/instances").body().toString()).doesNotContain(warmId);

            String task = http.post("/v1/tasks", Map.of("agent", "slow")).body().path("id").asText();
            CrashRecoveryTest.waitFor(() -> http.get("/v1/tasks/" + task + "/logs").body().toString().contains("up"));
            String hot = null;
            for (var i : http.get("/v1/instances").body().path("instances"))
                if (i.path("task").asText().equals(task)) hot = i.path("id").asText();
            assertThat(hot).as("the running task's instance is listed").isNotNull();
            assertThat(http.post("/v1/instances/" + hot + "/terminate", Map.of()).body().path("task").asText()).isEqualTo(task);
            assertThat(http.get("/v1/tasks/" + task).body().path("state").asText()).isEqualTo("cancelled");
            assertThat(http.post("/v1/instances/i-nope/terminate", Map.of()).status()).isEqualTo(404);
        }
        assertThat(Leftovers.of(data)).isEmpty();
    }

    @Test
    void aRedeployRetiresTheOldVersionsPool() throws Exception {
        Path data = dir.resolve("data");
        Path a = Files.createDirectories(dir.resolve("versioned"));
        String yaml = """
                name: versioned
                version: %s
                runtime: bubblewrap
                entrypoint: ["sh", "-c", "cat >/dev/null; sleep 0.5; echo '{\\"v\\": \\"%s\\"}'"]
                pool: {warm: 1, max: 4}
                """;
        try (Node node = new Node(Node.Config.embedded(data))) {
            Orchestrator o = node.orchestrator();
            Files.writeString(a.resolve("agent.yaml"), yaml.formatted("1.0.0", "1"));
            o.deploy("default", a, "versioned/agent.yaml");
            CrashRecoveryTest.waitFor(() -> o.warmCount() == 1);
            String old = o.submit("default", "versioned", "{}").id();
            Files.writeString(a.resolve("agent.yaml"), yaml.formatted("2.0.0", "2"));
            o.deploy("default", a, "versioned/agent.yaml");
            assertThat(o.await("default", old, Duration.ofSeconds(30)).result()).contains("{\"v\":\"1\"}");
            CrashRecoveryTest.waitFor(() -> o.warmCount() == 1);
            Thread.sleep(500);
            assertThat(o.warmCount()).as("no instance of the retired version is booted again").isEqualTo(1);
            assertThat(o.await("default", o.submit("default", "versioned", "{}").id(), Duration.ofSeconds(30)).result())
                    .contains("{\"v\":\"2\"}");
        }
        assertThat(Leftovers.of(data)).isEmpty();
    }

    @Test
    void theGlobalCapBoundsWarmInstances() throws Exception {
        Path data = dir.resolve("data");
        try (Node node = new Node(Node.Config.embedded(data).with(OperatorLimits.DEFAULT, 3, Duration.ofMinutes(5)))) {
            Orchestrator o = node.orchestrator();
            o.deploy("default", agent("pool: {warm: 8, max: 8}\n"), "pooled/agent.yaml");
            CrashRecoveryTest.waitFor(() -> o.warmCount() == 3);
            Thread.sleep(300);
            assertThat(o.warmCount()).isEqualTo(3);
        }
    }
}
