package dev.aegis.runtime.docker;

import dev.aegis.core.AgentRuntime;
import dev.aegis.core.InstanceId;
import dev.aegis.core.RuntimeEscapes;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** The shared escape suite, on a real Docker Engine. */
class DockerEscapeTest extends RuntimeEscapes {
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

    /** Docker's default seccomp profile lets a container ptrace its own processes (never the host's). */
    @Override
    protected java.util.Set<Feature> features() {
        return java.util.EnumSet.of(Feature.PYTHON3, Feature.AGENT_SOCKET);
    }

    @Override
    protected List<String> leftovers(InstanceId id) {
        return Engine.leftovers(root, id);
    }
}
