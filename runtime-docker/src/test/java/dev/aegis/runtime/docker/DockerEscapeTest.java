package dev.aegis.runtime.docker;

import dev.aegis.core.AgentRuntime;
import dev.aegis.core.InstanceId;
import dev.aegis.core.RuntimeEscapes;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
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

    /** Containers labelled with the instance, and its instance folder. */
    @Override
    protected List<String> leftovers(InstanceId id) {
        List<String> found = new ArrayList<>();
        try {
            Process p = new ProcessBuilder("docker", "ps", "-aq", "--filter", "label=dev.aegis.instance=" + id.value()).start();
            String ids = new String(p.getInputStream().readAllBytes()).strip();
            if (p.waitFor() != 0) throw new IllegalStateException("docker ps failed");
            if (!ids.isEmpty()) found.add("container " + ids);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        Path folder = root.resolve("state").resolve(id.value());
        if (Files.exists(folder)) found.add("folder " + folder);
        return found;
    }
}
