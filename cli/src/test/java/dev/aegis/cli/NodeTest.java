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
