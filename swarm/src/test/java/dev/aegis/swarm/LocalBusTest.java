package dev.aegis.swarm;

import dev.aegis.core.Bus;

class LocalBusTest extends BusContract {
    @Override
    Bus open() {
        return new LocalBus(1000);
    }
}
