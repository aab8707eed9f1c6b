package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.Manifest.Resources;
import dev.aegis.core.RuntimeFailure;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * The cgroups of this runtime's sandboxes: one child per instance under a parent that belongs to one state dir,
 * so two orchestrators on one machine never touch each other's sandboxes. cgroup v1 and v2 differ only here.
 */
sealed interface Cgroup permits CgroupV1, CgroupV2 {
    /** Picks v2 when {@code root} is a unified hierarchy, v1 when it holds the memory, pids and cpu controllers. */
    static Optional<Cgroup> detect(Path root, String parent) {
        if (Files.exists(root.resolve("cgroup.controllers"))) return Optional.of(new CgroupV2(root, parent));
        if (Stream.of("memory", "pids", "cpu").allMatch(c -> Files.isDirectory(root.resolve(c))))
            return Optional.of(new CgroupV1(root, parent));
        return Optional.empty();
    }

    /** e.g. {@code cgroup v1}. */
    String version();

    /** Creates the parent (idempotent); fails with a message saying how to fix permissions. */
    void prepare();

    /** Creates the instance's cgroup with its limits; returns the {@code cgroup.procs} files a process must join. */
    List<Path> create(String name, Resources limits);

    /** How many processes the kernel's OOM killer killed in this cgroup. */
    long oomKills(String name);

    /** How many forks the pids limit refused ({@code max} in {@code pids.events}). */
    long pidsRefused(String name);

    /** CPU time of everything the instance ran, and its peak memory; zeros for figures this host does not keep. */
    Measured usage(String name);

    record Measured(long cpuNanos, long memoryPeakBytes) {}

    /** SIGKILLs every process in the cgroup and returns once it is empty. */
    void kill(String name);

    /** Kills what is left and removes the cgroup. Idempotent. */
    void remove(String name);

    /** Names of the instance cgroups under the parent. */
    Set<String> children();

    /** Removes the parent if it has no children left. */
    void removeParent();

    // --- shared by both versions ---

    static void write(Path file, String value) {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            throw new RuntimeFailure("cannot write \"" + value + "\" to " + file + ": " + e
                    + " (the orchestrator must run as root or own a delegated cgroup)", e);
        }
    }

    static void mkdir(Path dir) {
        // Parents exist on every spawn but the first: one stat, where createDirectories would build and throw an
        // exception per existing folder (five of them on cgroup v1).
        if (Files.isDirectory(dir)) return;
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new RuntimeFailure("cannot create cgroup " + dir + ": " + e
                    + " (the orchestrator must run as root or own a delegated cgroup)", e);
        }
    }

    static Set<Long> pids(Path procs) {
        try {
            Set<Long> pids = new TreeSet<>();
            for (String line : Files.readAllLines(procs)) if (!line.isBlank()) pids.add(Long.parseLong(line.strip()));
            return pids;
        } catch (NoSuchFileException e) {
            return Set.of();
        } catch (IOException e) {
            throw new RuntimeFailure("cannot read " + procs + ": " + e, e);
        }
    }

    /** SIGKILLs the listed pids; ProcessHandle checks the start time, so a recycled pid is not hit. */
    static void killAll(Set<Long> pids) {
        for (long pid : pids) ProcessHandle.of(pid).ifPresent(ProcessHandle::destroyForcibly);
    }

    /** Kills until every {@code procs} file is empty: a process may fork between reading the list and the kill. */
    static void killUntilEmpty(List<Path> procs) {
        long deadline = System.nanoTime() + 10_000_000_000L;
        for (long pause = FIRST_PAUSE_NS; ; pause = Math.min(2 * pause, MAX_PAUSE_NS)) {
            Set<Long> left = pids(procs);
            if (left.isEmpty()) return;
            if (System.nanoTime() > deadline) throw new RuntimeFailure("cannot empty cgroup " + procs.getFirst().getParent() + ": pids " + left + " survive SIGKILL");
            killAll(left);
            pause(pause);
        }
    }

    /**
     * Waits up to {@code nanos} for every {@code procs} file to be empty. Polls from 50 µs up, doubling: a killed or
     * exiting process leaves its cgroup within microseconds, and a fixed 1 ms sleep used to dominate a clean kill.
     */
    static boolean awaitEmpty(List<Path> procs, long nanos) {
        long deadline = System.nanoTime() + nanos;
        for (long pause = FIRST_PAUSE_NS; ; pause = Math.min(2 * pause, MAX_PAUSE_NS)) {
            if (pids(procs).isEmpty()) return true;
            if (System.nanoTime() > deadline) return false;
            pause(pause);
        }
    }

    long FIRST_PAUSE_NS = 50_000, MAX_PAUSE_NS = 1_000_000;

    /** The pids listed in any of the {@code procs} files. */
    static Set<Long> pids(List<Path> procs) {
        Set<Long> all = new TreeSet<>();
        for (Path p : procs) all.addAll(pids(p));
        return all;
    }

    /** rmdir, retried while the kernel still tears the last processes down (EBUSY). */
    static void rmdir(Path dir) {
        for (int attempt = 0; ; attempt++) {
            try {
                Files.deleteIfExists(dir);
                return;
            } catch (IOException e) {
                if (attempt >= 1000) throw new RuntimeFailure("cannot remove cgroup " + dir + ": " + e, e);
                sleep(2);
            }
        }
    }

    /** One rmdir attempt: true if the cgroup is gone now, false if the kernel refused (it still holds tasks). */
    static boolean tryRmdir(Path dir) {
        try {
            Files.deleteIfExists(dir);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    static List<String> childNames(Path parent) {
        try (Stream<Path> s = Files.list(parent)) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new RuntimeFailure("cannot list cgroup " + parent + ": " + e, e);
        }
    }

    static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    static long field(String keyValueLines, String key) {
        for (String line : keyValueLines.split("\n")) {
            String[] kv = line.strip().split("\\s+");
            if (kv.length == 2 && kv[0].equals(key)) return Long.parseLong(kv[1]);
        }
        return 0;
    }

    static void sleep(long millis) {
        pause(millis * 1_000_000);
    }

    static void pause(long nanos) {
        try {
            Thread.sleep(java.time.Duration.ofNanos(nanos));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new RuntimeFailure("interrupted while cleaning up a cgroup", e);
        }
    }
}
