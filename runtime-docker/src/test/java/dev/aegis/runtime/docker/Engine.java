package dev.aegis.runtime.docker;

import dev.aegis.core.InstanceId;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.concurrent.TimeUnit;

/**
 * Makes sure the tests have a Docker Engine and the default image: runs tools/docker-image.sh once per JVM when
 * either is missing (starts dockerd, builds the image; the first build takes about a minute). Never skips: if the
 * engine cannot be had, the tests fail with the script's reason.
 */
final class Engine {
    private static volatile boolean ready;

    private Engine() {}

    static synchronized void ensure() {
        if (ready) return;
        try (DockerRuntime probe = new DockerRuntime(Files.createTempDirectory("aegis-docker-probe"))) {
            String d = probe.description();
            if (!probe.isApplicable() || d.contains("missing")) run(script());
            String after = probe.description();
            if (!probe.isApplicable() || after.contains("missing"))
                throw new IllegalStateException("no usable Docker Engine after tools/docker-image.sh: " + after);
            System.err.println("[aegis test] " + after);
            ready = true;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Containers labelled with the instance, its folder in any state dir under {@code root}, and its metering cgroups. */
    static List<String> leftovers(Path root, InstanceId id) {
        List<String> found = new ArrayList<>();
        try {
            Process p = new ProcessBuilder("docker", "ps", "-aq", "--filter", "label=dev.aegis.instance=" + id.value()).start();
            String ids = new String(p.getInputStream().readAllBytes()).strip();
            if (p.waitFor() != 0) throw new IllegalStateException("docker ps failed");
            if (!ids.isEmpty()) found.add("container " + ids);
            try (Stream<Path> states = Files.list(root)) {
                states.map(s -> s.resolve(id.value())).filter(Files::exists).forEach(f -> found.add("folder " + f));
            }
            // The metering cgroup parent, /sys/fs/cgroup/<controller>/aegis-docker-<hash>/<instance>, in any hierarchy.
            try (Stream<Path> controllers = Files.list(Path.of("/sys/fs/cgroup"))) {
                for (Path c : controllers.filter(Files::isDirectory).toList())
                    try (Stream<Path> parents = Files.list(c)) {
                        parents.filter(g -> g.getFileName().toString().startsWith("aegis-docker-")).map(g -> g.resolve(id.value()))
                                .filter(Files::exists).forEach(g -> found.add("cgroup " + g));
                    }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return found;
    }

    private static Path script() {
        for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
            Path s = dir.resolve("tools/docker-image.sh");
            if (Files.isExecutable(s)) return s;
        }
        throw new IllegalStateException("tools/docker-image.sh not found above " + Path.of("").toAbsolutePath()
                + ": run the tests from the AEGIS checkout, or start dockerd and build " + DockerRuntime.DEFAULT_IMAGE + " by hand");
    }

    private static void run(Path script) {
        System.err.println("[aegis test] preparing Docker with " + script + " (first time: about a minute)...");
        try {
            Process p = new ProcessBuilder(script.toString()).inheritIO().start();
            if (!p.waitFor(10, TimeUnit.MINUTES) || p.exitValue() != 0)
                throw new IllegalStateException(script + " failed (exit " + (p.isAlive() ? "timeout" : p.exitValue())
                        + "); its output above says why");
        } catch (IOException e) {
            throw new IllegalStateException("cannot run " + script + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
