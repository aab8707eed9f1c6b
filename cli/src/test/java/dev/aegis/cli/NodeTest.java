package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.core.AegisException;
import dev.aegis.core.OperatorLimits;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NodeTest {
    @TempDir
    Path dir;

    @Test
    void aDataFolderTooLongForUnixSocketsIsRefusedBeforeAnythingIsMade() {
        Path longest = dir.resolve("d".repeat(Node.MAX_SOCKET_PATH - 33 - dir.toString().length() - 1));
        Node.checkSocketRoom(longest); // exactly fits
        Path tooLong = dir.resolve(longest.getFileName() + "x");
        assertThatThrownBy(() -> new Node(Node.Config.embedded(tooLong))).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("data folder " + tooLong + " is " + tooLong.toString().length() + " bytes long")
                .hasMessageContaining("a socket path holds at most 107").hasMessageContaining("at most " + longest.toString().length() + " bytes")
                .hasMessageContaining("--data");
        assertThat(tooLong).doesNotExist();
    }

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
    void aQueuedTaskCanBeCancelledAndNeverRuns() throws Exception {
        Path agent = Files.createDirectories(dir.resolve("busy"));
        Files.writeString(agent.resolve("agent.yaml"), """
                name: busy
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["sh", "-c", "echo running >&2; sleep 600"]
                resources: {timeout: 10m}
                pool: {warm: 0, max: 1}
                """);
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")))) {
            var o = node.orchestrator();
            o.deploy("default", agent, "busy/agent.yaml");
            String first = o.submit("default", "busy", "{}").id();
            String second = o.submit("default", "busy", "{}").id();
            CrashRecoveryTest.waitFor(() -> !o.logs("default", first, 0).isEmpty());
            assertThat(o.task("default", second).state().name()).as("pool.max 1 holds it in the queue").isEqualTo("QUEUED");
            var cancelled = o.cancel("default", second);
            assertThat(cancelled.state().name()).isEqualTo("CANCELLED");
            assertThat(cancelled.error().orElseThrow().message()).isEqualTo("cancelled while queued");
            assertThat(o.transitions("default", second)).extracting(t -> t.to().name()).containsExactly("COLD", "FAILED");
            assertThat(o.cancel("default", first).state().name()).isEqualTo("CANCELLED");
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
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).with(tight, 2, Duration.ofMinutes(5)))) {
            assertThatThrownBy(() -> node.orchestrator().deploy("default", agent, "greedy/agent.yaml"))
                    .isInstanceOf(AegisException.class)
                    .satisfies(e -> assertThat(((AegisException) e).code()).isEqualTo("policy_denied"))
                    .hasMessageContaining("512Mi").hasMessageContaining("256Mi").hasMessageContaining("1h");
            assertThat(node.orchestrator().agents("default")).isEmpty();
        }
    }
}
