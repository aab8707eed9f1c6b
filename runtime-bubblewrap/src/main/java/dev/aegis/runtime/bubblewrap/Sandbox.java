package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.InstanceState;
import dev.aegis.core.LogSink;
import dev.aegis.core.Outcome;
import dev.aegis.core.RuntimeFailure;
import dev.aegis.core.SandboxSpec;
import dev.aegis.core.StdioRuntime;
import dev.aegis.core.Usage;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * One running sandbox: the bwrap process, its cgroup and its folder. {@link #destroy()} releases all three and is
 * safe to call from {@code execute}, {@code terminate} and a failed spawn, in any order, any number of times.
 */
final class Sandbox {
    private static final long SPAWN_TIMEOUT_MS = 10_000;
    private static final int PIPE_PAGE = 4096;
    private static final long LINGER_MS = 20;
    /** Kills sandboxes whose ready line does not come in time; see awaitReady. */
    private static final ScheduledThreadPoolExecutor WATCHDOG = watchdog();
    private final SandboxSpec spec;
    private final String name;
    private final InstanceFolder folder;
    private final Cgroup cgroup;
    private final Process process;
    private volatile InstanceState state = InstanceState.WARM;
    private volatile boolean terminated;
    private boolean destroyed; // guarded by this
    private final long startedNanos = System.nanoTime();
    private volatile Usage finalUsage;

    private Sandbox(SandboxSpec spec, InstanceFolder folder, Cgroup cgroup, Process process) {
        this.spec = spec;
        this.name = spec.id().value();
        this.folder = folder;
        this.cgroup = cgroup;
        this.process = process;
    }

    /** Builds folder, cgroup and process, and returns once the agent waits for its task; on failure leaves nothing. */
    static Sandbox start(SandboxSpec spec, Path bwrap, SharedFiles shared, Cgroup cgroup, Path stateDir, Optional<Spares> spares) {
        InstanceFolder folder = InstanceFolder.create(stateDir, spec.id());
        Sandbox sandbox = null;
        try {
            String name = spec.id().value();
            Optional<Spares.Spare> spare = spares.flatMap(s -> s.take(shared.init(), spec.manifest().resources()));
            if (spare.isPresent()) {
                // A launcher already in its cgroup (see Spares): name and limits, then the command on its stdin.
                spares.get().adopt(spare.get(), name, spec.manifest().resources());
                List<String> argv = BwrapCommand.argv(bwrap, shared, spec, folder, List.of());
                sandbox = new Sandbox(spec, folder, cgroup, spare.get().process());
                sandbox.send(Spares.command(argv.subList(2, argv.size()), BwrapCommand.environment(spec))); // past "init enter"
            } else {
                List<Path> procs = cgroup.create(name, spec.manifest().resources());
                ProcessBuilder pb = new ProcessBuilder(BwrapCommand.argv(bwrap, shared, spec, folder, procs));
                pb.directory(folder.dir().toFile());
                pb.environment().clear();
                pb.environment().putAll(BwrapCommand.environment(spec));
                sandbox = new Sandbox(spec, folder, cgroup, Launcher.start(pb));
            }
            sandbox.awaitReady();
            return sandbox;
        } catch (RuntimeException | IOException e) {
            try {
                if (sandbox != null) sandbox.destroy();
                else {
                    cgroup.remove(spec.id().value());
                    folder.delete();
                }
            } catch (RuntimeException cleanup) {
                e.addSuppressed(cleanup);
            }
            if (e instanceof RuntimeFailure f) throw f;
            throw new RuntimeFailure("cannot start sandbox " + spec.id() + ": " + e, e);
        }
    }

    /** Live figures while the sandbox runs, its final ones after execute; empty once released without a task. */
    synchronized Optional<Usage> usage() {
        if (finalUsage != null) return Optional.of(finalUsage);
        return destroyed ? Optional.empty() : Optional.of(measure());
    }

    private Usage measure() {
        Cgroup.Measured m = cgroup.usage(name);
        return new Usage(Duration.ofNanos(System.nanoTime() - startedNanos), Duration.ofNanos(m.cpuNanos()), m.memoryPeakBytes());
    }

    InstanceState state() {
        return state;
    }

    long pid() {
        return process.pid();
    }

    Outcome execute(String taskJson, LogSink logs) {
        synchronized (this) {
            if (state != InstanceState.WARM)
                throw new RuntimeFailure("instance " + name + " is " + state + ": an instance runs exactly one task");
            state = InstanceState.HOT;
        }
        Duration timeout = spec.manifest().resources().timeout();
        try {
            folder.writeTask(taskJson);
            OutputCapture out = new OutputCapture(process.getInputStream(), spec.limits().maxResultBytes(), this::kill);
            LogPump err = new LogPump(process.getErrorStream(), spec.limits().maxLogBytes(), logs);
            byte[] input = ("go\n" + taskJson).getBytes(StandardCharsets.UTF_8);
            // An agent that never reads stdin must not block us on a full pipe, so big tasks are written from their own
            // thread. A small one is written here: any pipe holds at least one page, so it cannot block (saves a thread
            // handoff on every task).
            if (input.length <= PIPE_PAGE) feed(input);
            else Thread.ofVirtual().name("aegis-stdin").start(() -> feed(input));
            boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            // bwrap exits with the agent's status while the sandbox's init is still dying of its parent-death signal;
            // once init is gone both pipes reach EOF. Waiting for that EOF is event-driven and leaves kill() an empty
            // cgroup to confirm, where polling the cgroup for init's end cost up to a millisecond more. Processes the
            // agent left holding the pipes get LINGER_MS each, then the kill.
            if (exited && out.await(LINGER_MS)) err.await(LINGER_MS);
            kill(); // done or out of time: nothing in the cgroup may outlive this point (e.g. a double-forked child)
            int code = process.waitFor();
            finalUsage = measure(); // the cgroup goes with release(): read it while every process is gone but it is not
            // Every writer is dead, so both pipes reach EOF now; the bound only guards against the unforeseen.
            boolean drained = out.await(5_000);
            drained &= err.await(5_000);
            if (!drained) closeStreams();
            synchronized (this) {
                if (terminated) return end(new Outcome.Killed("terminated"));
                if (!exited) return end(new Outcome.TimedOut(timeout));
                if (code == 128 + 9 && cgroup.oomKills(name) > 0)
                    return end(new Outcome.Killed("out of memory: limit " + size(spec.manifest().resources().memoryBytes())));
                // A failure while forks were being refused is the pids limit's doing: say so rather than "exit N".
                long refused = code == 0 ? 0 : cgroup.pidsRefused(name);
                if (refused > 0)
                    return end(new Outcome.Killed("pids limit of " + spec.manifest().resources().pids() + " reached ("
                            + refused + " forks refused; agent exited " + code + ")"));
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
        } catch (IOException e) {
            destroy();
            throw new RuntimeFailure("instance " + name + ": " + e, e);
        }
    }

    /**
     * The stdio session of {@link StdioRuntime#attach}: the go line starts the entrypoint, whose stdin and stdout then
     * belong to the caller. No OutputCapture here: the caller reads stdout as a stream and bounds each message.
     */
    StdioRuntime.Stdio attach(LogSink logs) {
        synchronized (this) {
            if (state != InstanceState.WARM)
                throw new RuntimeFailure("instance " + name + " is " + state + ": an instance runs exactly one task or session");
            state = InstanceState.HOT;
        }
        new LogPump(process.getErrorStream(), spec.limits().maxLogBytes(), logs);
        try {
            send("go\n".getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            destroy();
            throw new RuntimeFailure("instance " + name + " ended before its session started: " + e, e);
        }
        return new StdioRuntime.Stdio(process.getInputStream(), process.getOutputStream());
    }

    /** A running execute() returns Killed("terminated"). */
    void terminate() {
        terminated = true;
        destroy();
    }

    /** SIGKILLs the whole tree: bwrap (its death kills the pid namespace), then whatever is left in the cgroup. */
    synchronized void kill() {
        if (!destroyed) killTree();
    }

    synchronized void destroy() {
        if (destroyed) return;
        if (!state.isFinal()) state = terminated ? InstanceState.TERMINATED : InstanceState.FAILED;
        release();
    }

    /** Ends execute(): a process that ended by itself is TERMINATED, one the runtime had to kill is FAILED. */
    private Outcome end(Outcome outcome) {
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
        try {
            // The process only: cgroup.remove() below kills whatever else is left before it removes the cgroup.
            process.toHandle().destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            closeStreams();
            try {
                cgroup.remove(name);
            } finally {
                folder.delete();
            }
        }
    }

    private void killTree() {
        // Through the handle: Process.destroyForcibly() also closes our ends of stdout/stderr, which would drop
        // output the agent wrote just before it exited and our readers have not drained yet.
        process.toHandle().destroyForcibly();
        cgroup.kill(name);
    }

    private void awaitReady() throws IOException {
        // Read on this thread rather than on a helper thread awaited with a timeout: that cost two thread handoffs per
        // spawn. A watchdog kills the process if the line does not come in time, which ends the read with EOF.
        ScheduledFuture<?> timer = WATCHDOG.schedule(() -> process.toHandle().destroyForcibly(), SPAWN_TIMEOUT_MS, TimeUnit.MILLISECONDS);
        String line = readLine(process.getInputStream());
        boolean timedOut = !timer.cancel(false);
        if (timedOut) throw new RuntimeFailure("sandbox " + name + " did not start within " + SPAWN_TIMEOUT_MS + " ms");
        if (Thread.currentThread().isInterrupted()) throw new RuntimeFailure("interrupted while starting sandbox " + name);
        if (line.equals(BwrapCommand.READY)) return;
        // No marker: the wrapper or bwrap failed and is exiting with its reason on stderr.
        byte[] why = process.getErrorStream().readNBytes(4096);
        int code = waitBriefly();
        throw new RuntimeFailure(Diagnosis.of(code, new String(why, StandardCharsets.UTF_8).strip()));
    }

    private static ScheduledThreadPoolExecutor watchdog() {
        var pool = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().name("aegis-spawn-watchdog").daemon().factory());
        pool.setRemoveOnCancelPolicy(true);
        return pool;
    }

    private int waitBriefly() {
        try {
            return process.waitFor(2, TimeUnit.SECONDS) ? process.exitValue() : -1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
    }

    /** Reads one line byte by byte, so nothing printed after it is consumed here. */
    private static String readLine(InputStream in) {
        StringBuilder line = new StringBuilder();
        try {
            for (int c; line.length() < 256 && (c = in.read()) != -1 && c != '\n'; ) line.append((char) c);
        } catch (IOException e) {
            // treated as "not ready" by the caller
        }
        return line.toString();
    }

    /** Writes to the process's stdin and leaves it open (the task comes later). */
    private void send(byte[] bytes) throws IOException {
        OutputStream stdin = process.getOutputStream();
        stdin.write(bytes);
        stdin.flush();
    }

    private void feed(byte[] input) {
        try (OutputStream stdin = process.getOutputStream()) {
            stdin.write(input);
        } catch (IOException e) {
            // the agent exited or closed stdin: its outcome tells the story
        }
    }

    private void closeStreams() {
        for (Closeable s : List.of(process.getInputStream(), process.getErrorStream(), process.getOutputStream())) {
            try {
                s.close();
            } catch (IOException e) {
                // a stream of a dead process: nothing left to do
            }
        }
    }

    static String size(long bytes) {
        if (bytes % (1L << 30) == 0) return (bytes >> 30) + "Gi";
        if (bytes % (1L << 20) == 0) return (bytes >> 20) + "Mi";
        if (bytes % (1L << 10) == 0) return (bytes >> 10) + "Ki";
        return bytes + "B";
    }
}
