package dev.aegis.runtime.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.command.WaitContainerResultCallback;
import com.github.dockerjava.api.exception.ConflictException;
import com.github.dockerjava.api.exception.NotFoundException;
import dev.aegis.core.InstanceState;
import dev.aegis.core.LogSink;
import dev.aegis.core.Outcome;
import dev.aegis.core.RuntimeFailure;
import dev.aegis.core.SandboxSpec;
import dev.aegis.core.Usage;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One container: its Docker object, its attach streams and its host folder. {@link #destroy()} force-removes the
 * container and deletes the folder; it is safe to call from {@code execute}, {@code terminate} and a failed spawn,
 * in any order, any number of times.
 */
final class AgentContainer {
    private static final long SPAWN_TIMEOUT_MS = 10_000;
    private final DockerClient docker;
    private final SandboxSpec spec;
    private final String name;
    private final InstanceFolder folder;
    private final Optional<ContainerCgroups> cgroups;
    private final long startedNanos = System.nanoTime();
    private volatile Usage finalUsage;
    private final AttachStreams streams = new AttachStreams();
    private final StdinGate stdin = new StdinGate();
    private volatile InstanceState state = InstanceState.WARM;
    private volatile boolean terminated, killed;
    private boolean destroyed; // guarded by this

    private AgentContainer(DockerClient docker, SandboxSpec spec, String name, InstanceFolder folder, Optional<ContainerCgroups> cgroups) {
        this.docker = docker;
        this.spec = spec;
        this.name = name;
        this.folder = folder;
        this.cgroups = cgroups;
    }

    /**
     * Creates, attaches and starts the container, and returns once the shim waits for its task; on failure leaves
     * nothing. With {@code cgroups}, the container runs under a parent of its own that meters it.
     */
    static AgentContainer start(DockerClient docker, SandboxSpec spec, InstanceFolder folder, String name, String image,
                           Map<String, String> labels, Collection<String> imageEnv, Path init, Optional<ContainerCgroups> cgroups) {
        AgentContainer c = new AgentContainer(docker, spec, name, folder, cgroups);
        try {
            Optional<String> parent = cgroups.map(g -> g.parentOf(spec.id().value()));
            ContainerSpec.apply(docker.createContainerCmd(image), spec, folder, name, labels, imageEnv, init, parent).exec();
            // Attach before start, as `docker run` does: the first bytes the container writes are not lost.
            docker.attachContainerCmd(name).withStdIn(c.stdin).withStdOut(true).withStdErr(true).withFollowStream(true)
                    .exec(c.streams);
            if (!c.streams.awaitStarted(SPAWN_TIMEOUT_MS, TimeUnit.MILLISECONDS))
                throw new RuntimeFailure("docker did not attach to container " + name + " within " + SPAWN_TIMEOUT_MS + " ms");
            docker.startContainerCmd(name).exec();
            c.awaitReady();
            return c;
        } catch (RuntimeException e) {
            try {
                c.destroy();
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            if (e instanceof RuntimeFailure f) throw f;
            throw new RuntimeFailure(Diagnosis.of("cannot start container " + name, e), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.destroy();
            throw new RuntimeFailure("interrupted while starting container " + name, e);
        }
    }

    InstanceState state() {
        return state;
    }

    /** Live figures while the container runs, its final ones after execute; empty once released without a task. */
    synchronized Optional<Usage> usage() {
        if (finalUsage != null) return Optional.of(finalUsage);
        return destroyed ? Optional.empty() : Optional.of(measure());
    }

    private Usage measure() {
        ContainerCgroups.Measured m = cgroups.map(g -> g.usage(spec.id().value())).orElse(new ContainerCgroups.Measured(0, 0));
        return new Usage(Duration.ofNanos(System.nanoTime() - startedNanos), Duration.ofNanos(m.cpuNanos()), m.memoryPeakBytes());
    }

    String name() {
        return name;
    }

    Outcome execute(String taskJson, LogSink logs) {
        synchronized (this) {
            if (state != InstanceState.WARM)
                throw new RuntimeFailure("instance " + spec.id() + " is " + state + ": an instance runs exactly one task");
            state = InstanceState.HOT;
        }
        Duration timeout = spec.manifest().resources().timeout();
        try {
            folder.writeTask(taskJson);
            StdoutCapture out = new StdoutCapture(spec.limits().maxResultBytes(), () -> Thread.ofVirtual().start(this::kill));
            streams.bind(out, new LogLines(spec.limits().maxLogBytes(), logs));
            stdin.open();
            // The attach stream ends when the container's last process is gone, after its last byte of output.
            boolean ended = streams.awaitCompletion(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!ended) kill();
            synchronized (this) {
                if (terminated) return end(new Outcome.Killed("terminated"));
            }
            if (!ended) return end(new Outcome.TimedOut(timeout));
            InspectContainerResponse.ContainerState s = exitState();
            // The container has stopped and runc removed its own cgroup; our parent of it keeps the totals until release().
            finalUsage = measure();
            synchronized (this) {
                if (terminated) return end(new Outcome.Killed("terminated"));
                int code = s.getExitCodeLong() == null ? -1 : s.getExitCodeLong().intValue();
                if (Boolean.TRUE.equals(s.getOOMKilled()) && !out.truncated())
                    return end(new Outcome.Killed("out of memory: limit " + size(spec.manifest().resources().memoryBytes())));
                String output = out.text();
                boolean truncated = out.truncated();
                if (output.isBlank() && !truncated) {
                    InstanceFolder.Capped result = folder.readResult(spec.limits().maxResultBytes());
                    output = result.text();
                    truncated = result.truncated();
                }
                return end(new Outcome.Exited(code, output, truncated));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            destroy();
            return new Outcome.Killed("interrupted: the orchestrator is shutting down");
        } catch (IOException | RuntimeException e) {
            destroy();
            if (terminated) return new Outcome.Killed("terminated");
            throw new RuntimeFailure(Diagnosis.of("instance " + spec.id(), e), e);
        }
    }

    /** A running execute() returns Killed("terminated"). */
    void terminate() {
        terminated = true;
        destroy();
    }

    /** SIGKILL: the agent is pid 1 of its pid namespace, so everything in the container dies with it. */
    void kill() {
        killed = true;
        try {
            docker.killContainerCmd(name).exec();
        } catch (NotFoundException | ConflictException e) {
            // already gone or not running
        }
    }

    synchronized void destroy() {
        if (destroyed) return;
        if (!state.isFinal()) state = terminated ? InstanceState.TERMINATED : InstanceState.FAILED;
        release();
    }

    /** Ends execute(): a process that ended by itself is TERMINATED, one the runtime had to kill is FAILED. */
    private Outcome end(Outcome outcome) {
        if (finalUsage == null) finalUsage = measure(); // timeouts and kills are billed too
        state = switch (outcome) {
            case Outcome.Exited e when !e.outputTruncated() -> InstanceState.TERMINATED;
            case Outcome.Killed k when terminated -> InstanceState.TERMINATED;
            default -> InstanceState.FAILED;
        };
        if (!destroyed) release();
        return outcome;
    }

    private void release() {
        destroyed = true;
        stdin.close();
        try {
            docker.removeContainerCmd(name).withForce(true).withRemoveVolumes(true).exec();
        } catch (NotFoundException e) {
            // never created, or removed by reclaim
        } catch (ConflictException e) {
            if (!String.valueOf(e.getMessage()).contains("already in progress")) throw new RuntimeFailure(Diagnosis.of("cannot remove container " + name, e), e);
        } finally {
            try {
                streams.close();
            } catch (IOException e) {
                // the stream of a removed container: nothing left to close
            }
            folder.delete();
            cgroups.ifPresent(g -> g.remove(spec.id().value()));
        }
    }

    /**
     * The exit code and OOM flag once Docker has recorded the exit. The OOM event may trail the exit by a moment,
     * so a SIGKILL we did not send is looked at again briefly before it counts as a plain exit 137.
     */
    private InspectContainerResponse.ContainerState exitState() throws InterruptedException {
        docker.waitContainerCmd(name).exec(new WaitContainerResultCallback()).awaitStatusCode(10, TimeUnit.SECONDS);
        InspectContainerResponse.ContainerState s = docker.inspectContainerCmd(name).exec().getState();
        for (int i = 0; i < 10 && !killed && Long.valueOf(137).equals(s.getExitCodeLong()) && !Boolean.TRUE.equals(s.getOOMKilled()); i++) {
            Thread.sleep(20);
            s = docker.inspectContainerCmd(name).exec().getState();
        }
        return s;
    }

    private void awaitReady() throws InterruptedException {
        String line;
        try {
            line = streams.ready().get(SPAWN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            throw new RuntimeFailure("container " + name + " did not start within " + SPAWN_TIMEOUT_MS + " ms");
        } catch (ExecutionException e) {
            line = "";
        }
        if (line.equals(ContainerSpec.READY)) return;
        String why = streams.early();
        throw new RuntimeFailure("container " + name + " exited before its agent was ready"
                + (why.isEmpty() ? "" : ": " + why) + "; the image must run x86_64 Linux binaries (check the manifest's image)");
    }

    static String size(long bytes) {
        if (bytes % (1L << 30) == 0) return (bytes >> 30) + "Gi";
        if (bytes % (1L << 20) == 0) return (bytes >> 20) + "Mi";
        if (bytes % (1L << 10) == 0) return (bytes >> 10) + "Ki";
        return bytes + "B";
    }
}
