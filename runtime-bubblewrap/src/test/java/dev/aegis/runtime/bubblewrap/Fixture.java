package dev.aegis.runtime.bubblewrap;

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
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** A real runtime on a temp state dir, with an agent folder, agent lib and a live agent socket. */
final class Fixture implements AutoCloseable {
    private static final AtomicInteger SEQ = new AtomicInteger();
    static final Resources SMALL = new Resources(1.0, 256L << 20, 64, 16L << 20, Duration.ofSeconds(10));

    final Path root;
    final Path stateDir, agentDir, agentLib, socket;
    final BubblewrapRuntime runtime;
    private final ServerSocketChannel server;

    Fixture() throws IOException {
        this(Files.createTempDirectory("aegis-bwrap-test"));
    }

    /** On an existing folder: a second process (see CrashTest) can build the same layout. */
    Fixture(Path root) throws IOException {
        this.root = root;
        stateDir = root.resolve("state");
        agentDir = Files.createDirectories(root.resolve("agent"));
        agentLib = Files.createDirectories(root.resolve("lib"));
        Files.writeString(agentDir.resolve("hello.txt"), "hello from /agent\n");
        socket = root.resolve("agent.sock");
        Files.deleteIfExists(socket);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
        runtime = new BubblewrapRuntime(stateDir);
    }

    static InstanceId newId() {
        return new InstanceId("t-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet());
    }

    SandboxSpec spec(Resources r, String... entrypoint) {
        return spec(r, SandboxSpec.OutputLimits.DEFAULT, List.of(), entrypoint);
    }

    SandboxSpec spec(Resources r, SandboxSpec.OutputLimits limits, List<SandboxSpec.Mount> mounts, String... entrypoint) {
        Manifest m = new Manifest("test-agent", "1.0.0", "bubblewrap", List.of(entrypoint), Optional.empty(), r,
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
            assertThat(outcome).isInstanceOf(Outcome.Exited.class);
            return ((Outcome.Exited) outcome).output();
        }
    }

    String sh(String script) {
        return sh(SMALL, script);
    }

    String sh(Resources r, String script) {
        Run run = run(spec(r, "/bin/sh", "-c", script), "{}");
        assertThat(run.outcome()).as("logs: %s", run.logs()).isInstanceOf(Outcome.Exited.class);
        return run.output();
    }

    /** No cgroup, no folder, no process mentioning the instance. */
    void assertNothingLeft(InstanceId id) {
        String parent = BubblewrapRuntime.cgroupParent(runtime.stateDir());
        for (String c : List.of("memory", "pids", "cpu", "freezer", ""))
            assertThat(Path.of("/sys/fs/cgroup", c, parent, id.value())).as("cgroup").doesNotExist();
        assertThat(runtime.instanceRoot().resolve(id.value())).as("instance folder").doesNotExist();
        assertThat(processesMentioning(id.value())).as("processes").isEmpty();
        try {
            assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).as("host mounts").doesNotContain(id.value());
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
    }

    static List<String> processesMentioning(String text) {
        List<String> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline"))).replace('\0', ' ');
                    if (cmd.contains(text) && Long.parseLong(p.getFileName().toString()) != ProcessHandle.current().pid())
                        found.add(p.getFileName() + ": " + cmd);
                } catch (IOException e) {
                    // exited meanwhile
                }
            }
        } catch (IOException e) {
            throw new RuntimeException(e);
        }
        return found;
    }

    @Override
    public void close() throws IOException {
        runtime.reclaim(); // stops its spare launchers (Spares), which a fresh runtime's lock cannot hold off
        // A fresh runtime, as after a restart: it reclaims even instances a failed test left in this one's map.
        int forgotten = new BubblewrapRuntime(stateDir).reclaim();
        server.close();
        InstanceFolder.delete(root);
        assertThat(forgotten).as("instances a test left behind").isZero();
        assertThat(Path.of("/sys/fs/cgroup/memory", BubblewrapRuntime.cgroupParent(stateDir))).as("cgroup parent").doesNotExist();
    }
}
