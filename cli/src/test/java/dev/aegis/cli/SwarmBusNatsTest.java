package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.core.Coordinator;
import dev.aegis.swarm.NatsServer;
import java.nio.file.Path;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Every case of {@link SwarmBusTest} with the node's bus on a real NATS server (JetStream for the stream). */
class SwarmBusNatsTest extends SwarmBusTest {
    @Override
    Node.Config config(Path data) {
        return super.config(data).withCoordination(new Node.Coordination(Optional.of(NatsServer.url()), Coordinator.Limits.DEFAULT));
    }

    @Test
    void theNodeRunsItsBusOnNats() {
        assertThat(node.bus().description()).startsWith("NATS at nats://127.0.0.1:");
    }
}
