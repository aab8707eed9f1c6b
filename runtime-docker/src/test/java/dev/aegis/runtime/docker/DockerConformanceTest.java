package dev.aegis.runtime.docker;

import dev.aegis.core.AgentRuntime;
import dev.aegis.core.InstanceId;
import dev.aegis.core.RuntimeConformance;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The shared runtime contract, on a real Docker Engine. */
class DockerConformanceTest extends RuntimeConformance {
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

    @Override
    protected List<String> leftovers(InstanceId id) {
        return Engine.leftovers(root, id);
    }
}
