package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.Manifest.Resources;
import dev.aegis.core.RuntimeFailure;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * cgroup v1: one hierarchy per controller ({@code /sys/fs/cgroup/memory/<parent>/<name>}, pids, cpu) plus the
 * freezer when mounted, which lets a kill stop a fork bomb first instead of racing it.
 */
final class CgroupV1 implements Cgroup {
    static final long CPU_PERIOD_US = 100_000;
    private final List<Path> parents = new ArrayList<>();
    private final Path memory, pids, cpu;
    private final Path freezer; // null when the freezer controller is not mounted
    private final Path cpuacct; // where cpuacct.usage is: its own hierarchy, or co-mounted with cpu
    private final boolean memsw; // swap accounting is on: memory.memsw.* files exist

    CgroupV1(Path root, String parent) {
        memory = root.resolve("memory").resolve(parent);
        pids = root.resolve("pids").resolve(parent);
        cpu = root.resolve("cpu").resolve(parent);
        freezer = Files.isDirectory(root.resolve("freezer")) ? root.resolve("freezer").resolve(parent) : null;
        parents.addAll(List.of(memory, pids, cpu));
        if (freezer != null) parents.add(freezer);
        Path acct = root.resolve("cpuacct");
        boolean separate = Files.isDirectory(acct) && !Files.exists(root.resolve("cpu").resolve("cpuacct.usage"));
        cpuacct = separate ? acct.resolve(parent) : cpu;
        if (separate) parents.add(cpuacct);
        memsw = Files.exists(root.resolve("memory").resolve("memory.memsw.limit_in_bytes"));
    }

    @Override
    public String version() {
        return "cgroup v1";
    }

    @Override
    public void prepare() {
        parents.forEach(Cgroup::mkdir);
    }

    @Override
    public List<Path> create(String name, Resources limits) {
        prepare();
        parents.forEach(p -> Cgroup.mkdir(p.resolve(name)));
        limit(name, limits, null);
        return procs(name);
    }

    /**
     * Renames a spare's cgroup ({@link Spares}) to the instance's name (rename(2): v1 allows it within one parent) and
     * rewrites the limits that differ from those it was made with.
     */
    List<Path> adopt(String spare, String name, Resources limits, Resources made) {
        for (Path p : parents) {
            try {
                Files.move(p.resolve(spare), p.resolve(name), StandardCopyOption.ATOMIC_MOVE); // a bare rename(2)
            } catch (IOException e) {
                throw new RuntimeFailure("cannot rename cgroup " + p.resolve(spare) + " to " + name + ": " + e, e);
            }
        }
        limit(name, limits, made);
        return procs(name);
    }

    /** Writes the limits that differ from {@code before}: all of them for a new cgroup ({@code before} null). */
    private void limit(String name, Resources limits, Resources before) {
        Path mem = memory.resolve(name);
        if (before == null || before.memoryBytes() != limits.memoryBytes()) {
            // memsw caps memory+swap, or a sandbox could swap past its limit (absent when swap accounting is off).
            // The kernel keeps limit <= memsw at every step: raise memsw first, lower it last.
            String bytes = Long.toString(limits.memoryBytes());
            boolean raise = before != null && limits.memoryBytes() > before.memoryBytes();
            if (memsw && raise) Cgroup.write(mem.resolve("memory.memsw.limit_in_bytes"), bytes);
            Cgroup.write(mem.resolve("memory.limit_in_bytes"), bytes);
            if (memsw && !raise) Cgroup.write(mem.resolve("memory.memsw.limit_in_bytes"), bytes);
        }
        if (before == null || before.pids() != limits.pids())
            Cgroup.write(pids.resolve(name).resolve("pids.max"), Integer.toString(limits.pids()));
        if (before == null) Cgroup.write(cpu.resolve(name).resolve("cpu.cfs_period_us"), Long.toString(CPU_PERIOD_US));
        if (before == null || before.cpu() != limits.cpu()) {
            long quota = Math.max(1000, Math.round(limits.cpu() * CPU_PERIOD_US));
            Cgroup.write(cpu.resolve(name).resolve("cpu.cfs_quota_us"), Long.toString(quota));
        }
    }

    @Override
    public long oomKills(String name) {
        return Cgroup.field(Cgroup.read(memory.resolve(name).resolve("memory.oom_control")), "oom_kill");
    }

    @Override
    public long pidsRefused(String name) {
        return Cgroup.field(Cgroup.read(pids.resolve(name).resolve("pids.events")), "max");
    }

    @Override
    public Measured usage(String name) {
        return new Measured(number(cpuacct.resolve(name).resolve("cpuacct.usage")),
                number(memory.resolve(name).resolve("memory.max_usage_in_bytes")));
    }

    private static long number(Path file) {
        String v = Cgroup.read(file).strip();
        return v.isEmpty() ? 0 : Long.parseLong(v);
    }

    @Override
    public void kill(String name) {
        List<Path> procs = procs(name);
        Set<Long> left = Cgroup.pids(procs);
        if (left.isEmpty()) return; // a clean exit, most of the time
        // Right after bwrap exited, what is left is nearly always the sandbox's init still being torn down: bwrap's
        // monitor exits as soon as init reported the agent's status. A SIGKILL and a short wait end that in tens of
        // microseconds, where freezing first cost 1.5 ms (the freezer state is polled). Anything that is still there
        // after 2 ms is live, maybe forking: freeze it as before.
        Cgroup.killAll(left);
        if (Cgroup.awaitEmpty(procs, 2_000_000)) return;
        if (freezer != null && Files.isDirectory(freezer.resolve(name))) {
            // Frozen tasks cannot fork or exit, so one pass kills all of them and no pid gets recycled meanwhile.
            Path state = freezer.resolve(name).resolve("freezer.state");
            Cgroup.write(state, "FROZEN");
            long deadline = System.nanoTime() + 200_000_000L;
            for (long pause = Cgroup.FIRST_PAUSE_NS; !Cgroup.read(state).strip().equals("FROZEN") && System.nanoTime() < deadline;
                 pause = Math.min(2 * pause, Cgroup.MAX_PAUSE_NS))
                Cgroup.pause(pause);
            Cgroup.killAll(Cgroup.pids(procs));
            Cgroup.write(state, "THAWED");
        }
        Cgroup.killUntilEmpty(procs);
    }

    @Override
    public void remove(String name) {
        // The kernel refuses to rmdir a cgroup that holds a task, so trying first is safe, and it skips reading every
        // procs file when execute() already emptied the cgroup (the usual case).
        if (parents.stream().allMatch(p -> Cgroup.tryRmdir(p.resolve(name)))) return;
        kill(name);
        parents.forEach(p -> Cgroup.rmdir(p.resolve(name)));
    }

    @Override
    public Set<String> children() {
        Set<String> names = new TreeSet<>();
        parents.forEach(p -> names.addAll(Cgroup.childNames(p)));
        return names;
    }

    @Override
    public void removeParent() {
        for (Path p : parents) if (Cgroup.childNames(p).isEmpty()) Cgroup.rmdir(p);
    }

    private List<Path> procs(String name) {
        return parents.stream().filter(p -> Files.isDirectory(p.resolve(name)))
                .map(p -> p.resolve(name).resolve("cgroup.procs")).toList();
    }
}
