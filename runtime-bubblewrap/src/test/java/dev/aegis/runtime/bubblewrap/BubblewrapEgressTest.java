package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.AgentRuntime;
import dev.aegis.core.RuntimeEgress;
import java.nio.file.Path;

/** The egress bridge, on bubblewrap. */
class BubblewrapEgressTest extends RuntimeEgress {
    @Override
    protected AgentRuntime create(Path stateDir) {
        return new BubblewrapRuntime(stateDir);
    }

    @Override
    protected String runtimeName() {
        return "bubblewrap";
    }
}
