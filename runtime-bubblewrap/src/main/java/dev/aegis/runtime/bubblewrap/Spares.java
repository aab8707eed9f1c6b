package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.Manifest.Resources;
import dev.aegis.core.RuntimeFailure;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Lock;

/**
 * Sandbox launchers made ahead of time (cgroup v1): an {@code aegis-init spare} process already inside a fresh cgroup
 * (limited like the last spawn's), waiting on stdin for the rest of its command line. A spawn takes one, renames its cgroup to the
 * instance's name, rewrites the limits that differ and sends the command, and the spare becomes bwrap.
 * <p>
 * Why: on cgroup v1 the first write to {@code cgroup.procs} after an idle spell waits for an RCU grace period (the
 * kernel's cgroup_threadgroup_rwsem): 7-25 ms on a 2-core VM, more than raw bwrap's whole start. Starting a process
 * from the JVM costs another 2-3 ms. A spare pays both off the spawn's path, while the previous agent still runs.
 * cgroup v2 forbids renaming a cgroup, so there spawns join directly (mount it with {@code favordynmods} instead).
 * <p>
 * A spare dies with the orchestrator (parent-death signal; it is forked from {@link Launcher}'s thread) and its empty
 * cgroup, named {@link #PREFIX}..., is removed by the next {@code reclaim()}, by {@link #clear()} or at JVM exit.
 */
final class Spares {
    /** Not a valid instance id (they start with [a-z0-9]), so a spare's cgroup can never be taken for an instance's. */
    static final String PREFIX = "_spare.";
    /** Spares kept ready: two covers a spawn arriving while the last one's replacement still waits for its join. */
    private static final int TARGET = 2;
    private static final AtomicLong SERIAL = new AtomicLong();
    /** What aegis-init spare prints once it has joined its cgroups. */
    private static final byte[] JOINED = "aegis-spare\n".getBytes(StandardCharsets.US_ASCII);

    /** A spare and the limits its cgroup was made with (the last spawn's: most spawns then rewrite none). */
    record Spare(String cgroup, Process process, Resources limits) {}

    private final CgroupV1 cgroup;
    private final Lock layout;
    private final Deque<Spare> ready = new ConcurrentLinkedDeque<>();
    private final ExecutorService maker = Executors.newSingleThreadExecutor(Thread.ofVirtual().name("aegis-spares").factory());
    private final AtomicLong generation = new AtomicLong();
    private volatile Path init;
    private volatile Resources limits;

    /** @param layout the runtime's shared lock: spares are made under it, so reclaim() never races one */
    Spares(CgroupV1 cgroup, Lock layout) {
        this.cgroup = cgroup;
        this.layout = layout;
    }

    /**
     * A live spare if one is ready; either way, starts making replacements with aegis-init at {@code init}, their
     * cgroups limited like this spawn's.
     */
    Optional<Spare> take(Path init, Resources limits) {
        if (this.init == null) Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().unstarted(this::clear));
        this.init = init;
        this.limits = limits;
        long gen = generation.get();
        maker.execute(() -> fill(gen));
        for (Spare s; (s = ready.pollFirst()) != null; ) {
            if (s.process().isAlive()) return Optional.of(s);
            discard(s);
        }
        return Optional.empty();
    }

    /** Gives the spare's cgroup the instance's name and limits; on failure the spare is gone and this throws. */
    List<Path> adopt(Spare spare, String name, Resources limits) {
        try {
            return cgroup.adopt(spare.cgroup(), name, limits, spare.limits());
        } catch (RuntimeException e) {
            discard(spare);
            cgroup.remove(name); // the parts already renamed
            throw e;
        }
    }

    /** The rest of an enter command line and its environment, in the format aegis-init's read_command expects. */
    static byte[] command(List<String> args, Map<String, String> env) {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        List<String> envLines = new ArrayList<>();
        env.forEach((k, v) -> envLines.add(k + "=" + v));
        for (List<String> list : List.of(args, envLines)) {
            for (String s : list) {
                if (s.indexOf('\0') >= 0) throw new RuntimeFailure("command line or environment holds a NUL byte: " + s);
                b.writeBytes(s.getBytes(StandardCharsets.UTF_8));
                b.write(0);
            }
            b.write(0);
        }
        byte[] body = b.toByteArray();
        ByteArrayOutputStream all = new ByteArrayOutputStream(body.length + 8);
        all.writeBytes((body.length + "\n").getBytes(StandardCharsets.US_ASCII));
        all.writeBytes(body);
        return all.toByteArray();
    }

    /** How many spares are ready now. */
    int ready() {
        return ready.size();
    }

    /** Kills every ready spare and removes its cgroup; replacements asked for before this are not made. */
    void clear() {
        generation.incrementAndGet();
        for (Spare s; (s = ready.pollFirst()) != null; ) discard(s);
    }

    private void fill(long gen) {
        while (ready.size() < TARGET) {
            layout.lock();
            try {
                if (generation.get() != gen) return; // a reclaim came in between: it decides what lives
                Spare spare = make();
                if (spare == null) return; // only an optimisation: spawns join directly meanwhile
                ready.addLast(spare);
            } finally {
                layout.unlock();
            }
        }
    }

    /** A new spare, once it is in every cgroup (only then may a spawn rename them); null if that failed. */
    private Spare make() {
        String name = PREFIX + ProcessHandle.current().pid() + "." + SERIAL.incrementAndGet();
        Resources made = limits;
        Process process = null;
        try {
            List<String> argv = new ArrayList<>(List.of(init.toString(), "spare"));
            for (Path procs : cgroup.create(name, made)) argv.addAll(List.of("--join", procs.toString()));
            ProcessBuilder pb = new ProcessBuilder(argv).directory(Path.of("/").toFile());
            pb.environment().clear();
            process = Launcher.start(pb);
            // The kernel waits out its grace period here, on this thread, not on a spawn's.
            if (Arrays.equals(process.getInputStream().readNBytes(JOINED.length), JOINED)) return new Spare(name, process, made);
        } catch (IOException | RuntimeException e) {
            // below
        }
        if (process != null) process.destroyForcibly();
        try {
            cgroup.remove(name);
        } catch (RuntimeException e) {
            // reclaim() removes it
        }
        return null;
    }

    private void discard(Spare s) {
        s.process().destroyForcibly(); // also closes our ends of its pipes
        try {
            cgroup.remove(s.cgroup());
        } catch (RuntimeException e) {
            // reclaim() removes whatever is left under the runtime's parent
        }
    }
}
