package dev.aegis.runtime.docker;

import dev.aegis.core.AgentRuntime;
import dev.aegis.core.InstanceId;
import dev.aegis.core.RuntimeConformance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

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

    /** Containers labelled with the instance (any owner), and its folder in any state dir. */
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
        try (Stream<Path> states = Files.list(root)) {
            states.map(s -> s.resolve(id.value())).filter(Files::exists).forEach(p -> found.add("folder " + p));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }
}
