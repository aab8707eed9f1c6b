package dev.aegis.swarm;

import dev.aegis.core.Bus;

/** The bus contract against a real NATS server with JetStream ({@link NatsServer} starts one when none answers). */
class NatsBusTest extends BusContract {
    @Override
    Bus open() {
        return NatsBus.connect(NatsBus.Config.defaults(NatsServer.url()));
    }
}
