package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import dev.aegis.runtime.docker.DockerRuntime;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code kill -9} of a server during a task: after restart the task is failed and no sandbox survives. */
class CrashRecoveryTest {
    @TempDir
    Path dir;

    @Test
    void killedServerLeavesNoSandboxAndRestartFailsTheTask() throws Exception {
        Path data = dir.resolve("data");
        // One hot instance and, refilled behind it, two warm ones; after the crash and a restart, none.
        crashWithHotAndWarmInstances(data, "bubblewrap",
                () -> Leftovers.of(data).stream().filter(s -> s.startsWith("folder")).count() == 3,
                () -> Leftovers.of(data).stream().noneMatch(s -> s.startsWith("process")));
        assertThat(Leftovers.of(data)).isEmpty();
    }

    @Test
    void killedServerLeavesNoContainerAfterRestart() throws Exception {
        Path data = dir.resolve("data");
        Path state = data.toAbsolutePath().resolve("run/docker");
        Check three = () -> containers(state).size() == 3;
        // Containers do not die with the orchestrator (no parent-death signal through dockerd): restart reclaims them.
        crashWithHotAndWarmInstances(data, "docker", three, three);
        assertThat(containers(state)).isEmpty();
    }

    private void crashWithHotAndWarmInstances(Path data, String runtime, Check up, Check afterKill) throws Exception {
        Path agent = dir.resolve("sleeper-" + runtime);
        Files.createDirectories(agent);
        Files.writeString(agent.resolve("agent.yaml"), """
                name: sleeper
                version: 1.0.0
                runtime: %s
                entrypoint: ["sh", "-c", "echo asleep >&2; sleep 600"]
                resources: {timeout: 5m}
                pool: {warm: 2, max: 4}
                """.formatted(runtime));
        String java = ProcessHandle.current().info().command().orElse("java");
        Process server = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.aegis.cli.Main", "server", "--port", "0", "--data", data.toString())
                .redirectErrorStream(true).start();
        String url = null, key = null;
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(server.getInputStream()));
            for (String line; url == null && (line = out.readLine()) != null; ) {
                if (line.strip().startsWith("aeg_live_")) key = line.strip();
                if (line.contains("listening on ")) url = line.replaceAll(".*listening on (\\S+).*", "$1");
            }
            Thread.ofVirtual().start(() -> out.lines().forEach(l -> { }));
            assertThat(url).as("server printed its URL").isNotNull();
            assertThat(key).as("server printed its admin key on first start").isNotNull();
            Http http = new Http(url, key);
            assertThat(http.upload("/v1/agents", TarGz.pack(agent)).status()).isEqualTo(201);
            String id = http.post("/v1/tasks", Map.of("agent", "sleeper")).body().path("id").asText();
            waitFor(() -> http.get("/v1/tasks/" + id + "/logs").body().toString().contains("asleep"));
            waitFor(up);

            server.destroyForcibly();
            assertThat(server.waitFor(10, TimeUnit.SECONDS)).isTrue();
            waitFor(afterKill);

            try (Node restarted = new Node(Node.Config.embedded(data))) {
                assertThat(restarted.recovered()).isEqualTo(1);
                var task = restarted.orchestrator().task("default", id);
                assertThat(task.state().name()).isEqualTo("FAILED");
                assertThat(task.error().orElseThrow().code()).isEqualTo("orchestrator_restarted");
                assertThat(task.error().orElseThrow().message()).contains("orchestrator restarted");
                assertThat(restarted.orchestrator().transitions("default", id).getLast().to().name()).isEqualTo("FAILED");
                assertThat(restarted.firstAdminKey()).as("the admin key is minted only once").isEmpty();
            }
        } finally {
            server.destroyForcibly();
        }
    }

    /** Containers of the docker runtime keeping its state in {@code state}, found by their name prefix. */
    static List<String> containers(Path state) throws Exception {
        Process p = new ProcessBuilder("docker", "ps", "-aq", "--filter", "name=^" + DockerRuntime.owner(state) + "-").start();
        String ids = new String(p.getInputStream().readAllBytes()).strip();
        assertThat(p.waitFor()).isZero();
        return ids.isEmpty() ? List.of() : List.of(ids.split("\\s+"));
    }

    @Test
    void resultsAndLogsSurviveARestart() throws Exception {
        Path data = dir.resolve("data2");
        Path agent = dir.resolve("greeter");
        Files.createDirectories(agent);
        Files.writeString(agent.resolve("agent.yaml"), """
                name: greeter
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["sh", "-c", "echo one >&2; echo two >&2; echo '{\\"hi\\": 1}'"]
                """);
        String id;
        try (Node node = new Node(Node.Config.embedded(data))) {
            node.orchestrator().deploy("default", agent, "greeter/agent.yaml");
            id = node.orchestrator().submit("default", "greeter", "{}").id();
            assertThat(node.orchestrator().await("default", id, Duration.ofSeconds(30)).state().name()).isEqualTo("SUCCEEDED");
        }
        try (Node node = new Node(Node.Config.embedded(data))) {
            assertThat(node.recovered()).isZero();
            var task = node.orchestrator().task("default", id);
            assertThat(task.result()).contains("{\"hi\":1}");
            assertThat(node.orchestrator().logs("default", id, 0)).extracting(l -> l.line()).containsExactly("one", "two");
            assertThat(node.orchestrator().transitions("default", id)).extracting(t -> t.to().name())
                    .containsExactly("COLD", "WARM", "HOT", "TERMINATED");
            assertThat(node.orchestrator().agent("default", "greeter").manifest().name()).isEqualTo("greeter");
        }
    }

    interface Check {
        boolean ok() throws Exception;
    }

    static void waitFor(Check check) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (!check.ok()) {
            if (System.nanoTime() > deadline) throw new AssertionError("condition not met within 15 s");
            Thread.sleep(50);
        }
    }

}
