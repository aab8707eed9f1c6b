package dev.aegis.runtime.docker;

import dev.aegis.core.AgentRuntime;
import dev.aegis.core.RuntimeEgress;
import java.nio.file.Path;
import java.util.Optional;

/** The egress bridge, on a real Docker Engine. */
class DockerEgressTest extends RuntimeEgress {
    static {
        Engine.ensure();
    }

    @Override
    protected AgentRuntime create(Path stateDir) {
        return new DockerRuntime(stateDir);
    }

    @Override
    protected String runtimeName() {
        return "docker";
    }

    @Override
    protected Optional<String> image() {
        return Optional.of(DockerRuntime.DEFAULT_IMAGE);
    }
}
