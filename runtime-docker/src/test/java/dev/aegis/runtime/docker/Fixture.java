package dev.aegis.runtime.docker;

import dev.aegis.core.InstanceId;
import dev.aegis.core.Manifest;
import dev.aegis.core.Manifest.Resources;
import dev.aegis.core.Outcome;
import dev.aegis.core.SandboxSpec;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** A real runtime on a temp state dir, with an agent folder, agent lib and a live agent socket the agent may use. */
final class Fixture implements AutoCloseable {
    private static final AtomicInteger SEQ = new AtomicInteger();
    static final Resources SMALL = new Resources(1.0, 256L << 20, 64, 16L << 20, Duration.ofSeconds(10));

    final Path root;
    final Path stateDir, agentDir, agentLib, socket;
    final DockerRuntime runtime;
    final ServerSocketChannel server;

    Fixture() throws IOException {
        Engine.ensure();
        root = Files.createTempDirectory("aegis-docker-test");
        stateDir = root.resolve("state");
        agentDir = Files.createDirectories(root.resolve("agent"));
        agentLib = Files.createDirectories(root.resolve("lib"));
        Files.writeString(agentDir.resolve("hello.txt"), "hello from /agent\n");
        socket = root.resolve("agent.sock");
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
        // What the orchestrator must do for Docker: the container's uid 1000 needs write access to connect.
        Files.setAttribute(socket, "unix:uid", InstanceFolder.AGENT_UID);
        runtime = new DockerRuntime(stateDir);
    }

    static InstanceId newId() {
        return new InstanceId("t-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet());
    }

    SandboxSpec spec(Resources r, String... entrypoint) {
        return spec(r, SandboxSpec.OutputLimits.DEFAULT, List.of(), entrypoint);
    }

    SandboxSpec spec(Resources r, SandboxSpec.OutputLimits limits, List<SandboxSpec.Mount> mounts, String... entrypoint) {
        return spec(Optional.empty(), r, limits, mounts, entrypoint);
    }

    SandboxSpec spec(Optional<String> image, Resources r, SandboxSpec.OutputLimits limits, List<SandboxSpec.Mount> mounts, String... entrypoint) {
        Manifest m = new Manifest("test-agent", "1.0.0", "docker", List.of(entrypoint), image, r,
                Manifest.Permissions.NONE, List.of(), Manifest.Pool.DEFAULT);
        return new SandboxSpec(newId(), m, agentDir, socket, agentLib, Optional.empty(), Map.of("AEGIS_TOKEN", "secret-token"), mounts, limits);
    }

    /** Spawns, executes, terminates, and checks nothing is left. */
    Run run(SandboxSpec spec, String task) {
        List<String> logs = Collections.synchronizedList(new ArrayList<>());
        InstanceId id = runtime.spawn(spec);
        long t0 = System.nanoTime();
        Outcome outcome = runtime.execute(id, task, logs::add);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        runtime.terminate(id);
        assertNothingLeft(id);
        return new Run(outcome, List.copyOf(logs), took);
    }

    record Run(Outcome outcome, List<String> logs, Duration took) {
        String output() {
            assertThat(outcome).as("logs: %s", logs).isInstanceOf(Outcome.Exited.class);
            return ((Outcome.Exited) outcome).output();
        }
    }

    String sh(String script) {
        return sh(SMALL, script);
    }

    String sh(Resources r, String script) {
        return run(spec(r, "/bin/sh", "-c", script), "{}").output();
    }

    /** No container of that instance (by name or label) and no instance folder. */
    void assertNothingLeft(InstanceId id) {
        assertThat(containersOf(Map.of(DockerRuntime.INSTANCE_LABEL, id.value()))).as("containers labelled " + id).isEmpty();
        assertThat(runtime.client().listContainersCmd().withShowAll(true).withNameFilter(List.of(runtime.containerName(id))).exec())
                .as("containers named for " + id).isEmpty();
        assertThat(stateDir.resolve(id.value())).as("instance folder").doesNotExist();
    }

    List<String> containersOf(Map<String, String> labels) {
        return runtime.client().listContainersCmd().withShowAll(true).withLabelFilter(labels).exec().stream()
                .map(c -> c.getNames()[0]).toList();
    }

    @Override
    public void close() throws IOException {
        // A fresh runtime, as after a restart: it reclaims even instances a failed test left in this one's map.
        int forgotten;
        try (DockerRuntime fresh = new DockerRuntime(stateDir)) {
            forgotten = fresh.reclaim();
        }
        runtime.close();
        server.close();
        InstanceFolder.delete(root);
        assertThat(forgotten).as("instances a test left behind").isZero();
    }
}
