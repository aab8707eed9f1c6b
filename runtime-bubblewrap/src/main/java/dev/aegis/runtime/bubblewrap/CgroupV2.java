package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.Manifest.Resources;
import dev.aegis.core.RuntimeFailure;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * cgroup v2: one unified tree, {@code /sys/fs/cgroup/<parent>/<name>}. The parent sits at the top so its controllers
 * can be enabled without moving the orchestrator itself (the no-internal-processes rule forbids enabling controllers
 * on a cgroup that holds processes, the root excepted).
 */
final class CgroupV2 implements Cgroup {
    private static final List<String> CONTROLLERS = List.of("memory", "pids", "cpu");
    private final Path root, parent;

    CgroupV2(Path root, String parent) {
        this.root = root;
        this.parent = root.resolve(parent);
    }

    @Override
    public String version() {
        return "cgroup v2";
    }

    @Override
    public void prepare() {
        enable(root);
        Cgroup.mkdir(parent);
        enable(parent);
    }

    @Override
    public List<Path> create(String name, Resources limits) {
        prepare();
        Path cg = parent.resolve(name);
        Cgroup.mkdir(cg);
        Cgroup.write(cg.resolve("memory.max"), Long.toString(limits.memoryBytes()));
        // The hard cap includes swap: none beyond memory.max.
        if (Files.exists(cg.resolve("memory.swap.max"))) Cgroup.write(cg.resolve("memory.swap.max"), "0");
        // On OOM kill the whole sandbox, not one process a supervisor might silently restart.
        if (Files.exists(cg.resolve("memory.oom.group"))) Cgroup.write(cg.resolve("memory.oom.group"), "1");
        Cgroup.write(cg.resolve("pids.max"), Integer.toString(limits.pids()));
        long period = CgroupV1.CPU_PERIOD_US;
        Cgroup.write(cg.resolve("cpu.max"), Math.max(1000, Math.round(limits.cpu() * period)) + " " + period);
        return List.of(cg.resolve("cgroup.procs"));
    }

    @Override
    public long oomKills(String name) {
        return Cgroup.field(Cgroup.read(parent.resolve(name).resolve("memory.events")), "oom_kill");
    }

    @Override
    public long pidsRefused(String name) {
        return Cgroup.field(Cgroup.read(parent.resolve(name).resolve("pids.events")), "max");
    }

    @Override
    public Measured usage(String name) {
        Path cg = parent.resolve(name);
        String peak = Cgroup.read(cg.resolve("memory.peak")).strip(); // Linux 5.19+; else the current figure
        if (peak.isEmpty()) peak = Cgroup.read(cg.resolve("memory.current")).strip();
        return new Measured(Cgroup.field(Cgroup.read(cg.resolve("cpu.stat")), "usage_usec") * 1000,
                peak.isEmpty() ? 0 : Long.parseLong(peak));
    }

    @Override
    public void kill(String name) {
        Path cg = parent.resolve(name);
        if (!Files.isDirectory(cg)) return;
        // cgroup.kill (Linux 5.14+) kills the whole cgroup atomically, forks in flight included.
        if (Files.exists(cg.resolve("cgroup.kill"))) Cgroup.write(cg.resolve("cgroup.kill"), "1");
        Cgroup.killUntilEmpty(List.of(cg.resolve("cgroup.procs")));
    }

    @Override
    public void remove(String name) {
        if (Cgroup.tryRmdir(parent.resolve(name))) return; // refused while it holds a task: see CgroupV1.remove
        kill(name);
        Cgroup.rmdir(parent.resolve(name));
    }

    @Override
    public Set<String> children() {
        return new TreeSet<>(Cgroup.childNames(parent));
    }

    @Override
    public void removeParent() {
        if (Files.isDirectory(parent) && Cgroup.childNames(parent).isEmpty()) Cgroup.rmdir(parent);
    }

    private static void enable(Path cg) {
        String enabled = Cgroup.read(cg.resolve("cgroup.subtree_control"));
        String available = Cgroup.read(cg.resolve("cgroup.controllers"));
        for (String c : CONTROLLERS) {
            if (List.of(enabled.strip().split("\\s+")).contains(c)) continue;
            if (!List.of(available.strip().split("\\s+")).contains(c))
                throw new RuntimeFailure("cgroup v2: controller " + c + " is not available in " + cg
                        + " (available: " + available.strip() + "); enable it in the parent's cgroup.subtree_control"
                        + " or run the orchestrator with a delegated cgroup (systemd: Delegate=yes)");
            Cgroup.write(cg.resolve("cgroup.subtree_control"), "+" + c);
        }
    }
}
