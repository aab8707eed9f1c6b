package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.core.AegisException;
import dev.aegis.core.OperatorLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeTest {
    @TempDir
    Path dir;

    @Test
    void oneNodePerDataFolder() {
        try (Node first = new Node(Node.Config.embedded(dir))) {
            assertThatThrownBy(() -> new Node(Node.Config.embedded(dir))).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("is in use by another aegis process").hasMessageContaining("--data");
            assertThat(first.orchestrator().agents("default")).isEmpty();
        }
        try (Node again = new Node(Node.Config.embedded(dir))) {
            assertThat(again.firstAdminKey()).isEmpty();
        }
    }

    @Test
    void shutdownFailsRunningTasksAndLeavesNothing() throws Exception {
        Path agent = Files.createDirectories(dir.resolve("slow"));
        Files.writeString(agent.resolve("agent.yaml"), """
                name: slow
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["sh", "-c", "echo started >&2; sleep 600"]
                resources: {timeout: 10m}
                """);
        Path data = dir.resolve("data");
        String id;
        try (Node node = new Node(Node.Config.embedded(data))) {
            node.orchestrator().deploy("default", agent, "slow/agent.yaml");
            id = node.orchestrator().submit("default", "slow", "{}").id();
            CrashRecoveryTest.waitFor(() -> !node.orchestrator().logs("default", id, 0).isEmpty());
            assertThat(Leftovers.of(data)).isNotEmpty();
        }
        assertThat(Leftovers.of(data)).isEmpty();
        assertThat(Leftovers.cgroupParents(data)).as("the runtime's cgroup parent goes with the node").isEmpty();
        try (Node node = new Node(Node.Config.embedded(data))) {
            assertThat(node.recovered()).as("the shutdown recorded the task itself").isZero();
            var task = node.orchestrator().task("default", id);
            assertThat(task.state().name()).isEqualTo("FAILED");
            assertThat(task.error().orElseThrow().code()).isEqualTo("orchestrator_shutdown");
        }
    }

    @Test
    void operatorCeilingsRefuseGreedyManifests() throws Exception {
        Path agent = Files.createDirectories(dir.resolve("greedy"));
        Files.writeString(agent.resolve("agent.yaml"), """
                name: greedy
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["sh", "-c", "echo {}"]
                resources: {memory: 512Mi, timeout: 1h}
                """);
        OperatorLimits tight = new OperatorLimits(1, 256L << 20, 64, 64L << 20, Duration.ofMinutes(5));
        try (Node node = new Node(new Node.Config(dir.resolve("data"), "127.0.0.1", Optional.empty(), tight, 2, List.of()))) {
            assertThatThrownBy(() -> node.orchestrator().deploy("default", agent, "greedy/agent.yaml"))
                    .isInstanceOf(AegisException.class)
                    .satisfies(e -> assertThat(((AegisException) e).code()).isEqualTo("policy_denied"))
                    .hasMessageContaining("512Mi").hasMessageContaining("256Mi").hasMessageContaining("1h");
            assertThat(node.orchestrator().agents("default")).isEmpty();
        }
    }
}
