package dev.aegis.runtime.docker;

import dev.aegis.core.RuntimeFailure;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/**
 * Metering for containers. Each container runs under a cgroup parent of its own, {@code /<parent>/<instance>}, and
 * its CPU time and peak memory are read there. Why a parent: runc deletes the container's own cgroup the moment the
 * container stops, figures and all, while a parent keeps its descendants' totals (cpuacct charges and the memory
 * high-water mark are hierarchical). Only with the Engine's cgroupfs driver, where a cgroup parent is a path under
 * {@code /sys/fs/cgroup}; runc creates it in every hierarchy, and we remove it after the container.
 */
final class ContainerCgroups {
    /** CPU time of everything the container ran, and its peak memory; zeros where the host keeps no such figure. */
    record Measured(long cpuNanos, long memoryPeakBytes) {}

    private final Path root;
    private final String parent;
    private final boolean unified;

    /** @param parent e.g. {@code aegis-docker-1a2b3c4d}: one per state dir, so reclaim only touches its own */
    ContainerCgroups(Path root, String parent) {
        this.root = root;
        this.parent = parent;
        this.unified = Files.exists(root.resolve("cgroup.controllers"));
    }

    /** The value for the container's {@code HostConfig.CgroupParent}. */
    String parentOf(String instance) {
        return "/" + parent + "/" + instance;
    }

    Measured usage(String instance) {
        if (unified) {
            Path dir = root.resolve(parent).resolve(instance);
            return new Measured(field(read(dir.resolve("cpu.stat")), "usage_usec") * 1000, number(dir.resolve("memory.peak")));
        }
        return new Measured(number(root.resolve("cpuacct").resolve(parent).resolve(instance).resolve("cpuacct.usage")),
                number(root.resolve("memory").resolve(parent).resolve(instance).resolve("memory.max_usage_in_bytes")));
    }

    /** Removes the instance's parent in every hierarchy; call once the container is removed. Idempotent. */
    void remove(String instance) {
        for (Path h : hierarchies()) rmdir(h.resolve(parent).resolve(instance));
    }

    /** Instances that have a parent in any hierarchy. */
    Set<String> children() {
        Set<String> names = new TreeSet<>();
        for (Path h : hierarchies()) names.addAll(dirs(h.resolve(parent)));
        return names;
    }

    /** Removes the runtime's parent where no instance is left under it. */
    void removeParent() {
        for (Path h : hierarchies()) {
            Path p = h.resolve(parent);
            if (Files.isDirectory(p) && dirs(p).isEmpty()) rmdir(p);
        }
    }

    private List<Path> hierarchies() {
        if (unified) return List.of(root);
        return dirs(root).stream().map(root::resolve).filter(h -> Files.isDirectory(h.resolve(parent))).toList();
    }

    private static List<String> dirs(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> Files.isDirectory(p) && !Files.isSymbolicLink(p)).map(p -> p.getFileName().toString()).toList();
        } catch (NoSuchFileException e) {
            return List.of();
        } catch (IOException e) {
            throw new RuntimeFailure("cannot list cgroup " + dir + ": " + e, e);
        }
    }

    /** rmdir, retried briefly: runc may still be removing the container's own cgroup inside (EBUSY). */
    private static void rmdir(Path dir) {
        for (int attempt = 0; ; attempt++) {
            try {
                Files.deleteIfExists(dir);
                return;
            } catch (IOException e) {
                if (attempt >= 500) throw new RuntimeFailure("cannot remove cgroup " + dir + ": " + e, e);
                try {
                    Thread.sleep(2);
                } catch (InterruptedException i) {
                    Thread.currentThread().interrupt();
                    throw new RuntimeFailure("interrupted while removing cgroup " + dir, i);
                }
            }
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            return "";
        }
    }

    private static long number(Path file) {
        String v = read(file).strip();
        return v.isEmpty() || v.equals("max") ? 0 : Long.parseLong(v);
    }

    private static long field(String keyValueLines, String key) {
        for (String line : keyValueLines.split("\n")) {
            String[] kv = line.strip().split("\\s+");
            if (kv.length == 2 && kv[0].equals(key)) return Long.parseLong(kv[1]);
        }
        return 0;
    }
}
