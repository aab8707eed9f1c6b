package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.AgentRuntime;
import dev.aegis.core.InstanceId;
import dev.aegis.core.InstanceState;
import dev.aegis.core.LogSink;
import dev.aegis.core.Metered;
import dev.aegis.core.Usage;
import dev.aegis.core.Outcome;
import dev.aegis.core.RuntimeFailure;
import dev.aegis.core.SandboxSpec;
import dev.aegis.core.StdioRuntime;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReadWriteLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import java.util.stream.Stream;

/**
 * Runs agents in bubblewrap sandboxes: Linux namespaces, a read-only root of explicit binds, a seccomp filter, and
 * cgroup (v1 or v2) limits on memory, cpu and pids. Needs bwrap on PATH, user namespaces, and write access to the
 * cgroup tree (root, or a delegated cgroup). Thread-safe.
 */
public final class BubblewrapRuntime implements AgentRuntime, Metered, StdioRuntime {
    private static final Path CGROUP_ROOT = Path.of("/sys/fs/cgroup");
    private final Path stateDir;
    private final Path instanceRoot;
    private final Optional<Cgroup> cgroup;
    private final Optional<byte[]> seccomp = SeccompFilter.forHost();
    private final Map<InstanceId, Sandbox> instances = new ConcurrentHashMap<>();
    /** spawn() holds it shared, reclaim() exclusive: reclaim may remove the cgroup parent a spawn is about to use. */
    private final ReadWriteLock layout = new ReentrantReadWriteLock();
    private final Optional<Spares> spares;
    private volatile HostProbe probe;
    private volatile SharedFiles shared;

    /** @param stateDir the runtime's files, e.g. {@code <dataDir>/run/bubblewrap}; also names its cgroups and instance folder root */
    public BubblewrapRuntime(Path stateDir) {
        this.stateDir = stateDir.toAbsolutePath().normalize();
        this.cgroup = Cgroup.detect(CGROUP_ROOT, cgroupParent(this.stateDir));
        this.instanceRoot = instanceRoot(this.stateDir);
        this.spares = cgroup.filter(c -> c instanceof CgroupV1).map(c -> new Spares((CgroupV1) c, layout.readLock()));
    }

    /** {@code aegis-<first 8 hex of sha256(stateDir)>}: each orchestrator (data folder) owns its own subtree. */
    static String cgroupParent(Path stateDir) {
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(stateDir.toString().getBytes(StandardCharsets.UTF_8));
            return "aegis-" + HexFormat.of().formatHex(hash, 0, 4);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Where the runtime for {@code stateDir} keeps its instance folders: on tmpfs when the host has one, see InstanceFolder. */
    public static Path instanceRoot(Path stateDir) {
        Path dir = stateDir.toAbsolutePath().normalize();
        return InstanceFolder.root(dir, cgroupParent(dir));
    }

    @Override
    public String name() {
        return "bubblewrap";
    }

    @Override
    public boolean isApplicable() {
        return probe().applicable();
    }

    @Override
    public String description() {
        return probe().description();
    }

    @Override
    public InstanceId spawn(SandboxSpec spec) {
        HostProbe p = probe();
        if (!p.applicable()) throw new RuntimeFailure("runtime bubblewrap is not usable here: " + p.description());
        layout.readLock().lock();
        try {
            SharedFiles files = shared;
            if (!files.intact()) shared = files = SharedFiles.install(stateDir, seccomp);
            instances.put(spec.id(), Sandbox.start(spec, p.bwrap().orElseThrow(), files, cgroup.orElseThrow(), instanceRoot, spares));
            return spec.id();
        } finally {
            layout.readLock().unlock();
        }
    }

    @Override
    public Outcome execute(InstanceId id, String taskJson, LogSink logs) {
        Sandbox s = instances.get(id);
        if (s == null) throw new RuntimeFailure("instance " + id + " does not exist: it was never spawned or is terminated");
        return s.execute(taskJson, logs);
    }

    @Override
    public Stdio attach(InstanceId id, LogSink stderr) {
        Sandbox s = instances.get(id);
        if (s == null) throw new RuntimeFailure("instance " + id + " does not exist: it was never spawned or is terminated");
        return s.attach(stderr);
    }

    @Override
    public void terminate(InstanceId id) {
        Sandbox s = instances.get(id);
        if (s == null) return;
        s.terminate();
        instances.remove(id, s);
    }

    @Override
    public Optional<Usage> usage(InstanceId id) {
        Sandbox s = instances.get(id);
        return s == null ? Optional.empty() : s.usage();
    }

    @Override
    public InstanceState status(InstanceId id) {
        Sandbox s = instances.get(id);
        return s == null ? InstanceState.TERMINATED : s.state();
    }

    /** Kills and removes every cgroup under this runtime's parent and every instance folder not owned by a live instance. */
    @Override
    public int reclaim() {
        if (cgroup.isEmpty()) return 0;
        layout.writeLock().lock();
        try {
            spares.ifPresent(Spares::clear);
            Set<String> leftovers = new TreeSet<>(cgroup.get().children());
            leftovers.addAll(instanceFolders());
            instances.keySet().forEach(id -> leftovers.remove(id.value()));
            for (String name : leftovers) {
                cgroup.get().remove(name);
                InstanceFolder.delete(instanceRoot.resolve(name));
            }
            if (instances.isEmpty()) {
                cgroup.get().removeParent();
                if (!instanceRoot.equals(stateDir)) removeIfEmpty(instanceRoot);
            }
            return (int) leftovers.stream().filter(n -> !n.startsWith(Spares.PREFIX)).count(); // a spare was no instance
        } finally {
            layout.writeLock().unlock();
        }
    }

    /** The bwrap process of an instance, for tests that simulate crashes. */
    Optional<Long> pid(InstanceId id) {
        return Optional.ofNullable(instances.get(id)).map(Sandbox::pid);
    }

    Path stateDir() {
        return stateDir;
    }

    Optional<Spares> spares() {
        return spares;
    }

    Path instanceRoot() {
        return instanceRoot;
    }

    Optional<Cgroup> cgroup() {
        return cgroup;
    }

    private HostProbe probe() {
        HostProbe p = probe;
        if (p != null) return p;
        p = HostProbe.run(cgroup, seccomp.isPresent());
        if (p.applicable()) {
            try {
                shared = SharedFiles.install(stateDir, seccomp);
            } catch (RuntimeFailure e) {
                p = new HostProbe(Optional.empty(), p.description() + ", but " + e.getMessage());
            }
        }
        return probe = p;
    }

    private static void removeIfEmpty(Path dir) {
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            // not empty (someone else's files) or not ours: left alone
        }
    }

    /** Only folders we made (they hold the marker) or empty ones: the state dir may be shared with other files. */
    private Set<String> instanceFolders() {
        try (Stream<Path> s = Files.list(instanceRoot)) {
            Set<String> names = new TreeSet<>();
            for (Path dir : s.filter(Files::isDirectory).toList()) {
                boolean ours = Files.exists(dir.resolve(InstanceFolder.MARKER));
                try (Stream<Path> inside = Files.list(dir)) {
                    if (ours || inside.findAny().isEmpty()) names.add(dir.getFileName().toString());
                }
            }
            return names;
        } catch (NoSuchFileException e) {
            return Set.of();
        } catch (IOException e) {
            throw new RuntimeFailure("cannot list instance folders in " + instanceRoot + ": " + e, e);
        }
    }
}
