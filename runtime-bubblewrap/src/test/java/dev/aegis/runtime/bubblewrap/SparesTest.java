package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.InstanceId;
import dev.aegis.core.Manifest.Resources;
import dev.aegis.core.Outcome;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Spare launchers (cgroup v1, this host): made after a spawn, taken by the next, gone after reclaim. */
class SparesTest {
    private static final Path MEMORY = Path.of("/sys/fs/cgroup/memory");

    @Test
    void theNextSpawnBecomesASpareThatWasAlreadyInItsCgroupAndGetsItsOwnLimits() throws Exception {
        try (Fixture f = new Fixture()) {
            Path parent = MEMORY.resolve(BubblewrapRuntime.cgroupParent(f.stateDir));
            assertThat(f.run(f.spec(Fixture.SMALL, "/bin/true"), "{}").outcome()).isEqualTo(new Outcome.Exited(0, "", false));
            Set<Long> spares = awaitSpares(f, parent);

            Resources other = new Resources(0.5, 96L << 20, 32, 16L << 20, Duration.ofSeconds(10));
            InstanceId id = f.runtime.spawn(f.spec(other, "/bin/sh", "-c", "cat >/dev/null; echo '{\"ok\": true}'"));
            long pid = f.runtime.pid(id).orElseThrow();
            assertThat(spares).as("the sandbox's bwrap was a spare").contains(pid);
            Path cg = Path.of("/sys/fs/cgroup");
            assertThat(Files.readString(parent.resolve(id.value()).resolve("memory.limit_in_bytes")).strip()).isEqualTo(Long.toString(96L << 20));
            assertThat(Files.readString(cg.resolve("pids").resolve(parent.getFileName()).resolve(id.value()).resolve("pids.max")).strip()).isEqualTo("32");
            assertThat(Files.readString(cg.resolve("cpu").resolve(parent.getFileName()).resolve(id.value()).resolve("cpu.cfs_quota_us")).strip()).isEqualTo("50000");
            assertThat(f.runtime.execute(id, "{}", line -> { })).isEqualTo(new Outcome.Exited(0, "{\"ok\": true}\n", false));
            f.runtime.terminate(id);
            f.assertNothingLeft(id);
        }
    }

    @Test
    void reclaimKillsTheSparesAndRemovesTheirCgroups() throws Exception {
        try (Fixture f = new Fixture()) {
            Path parent = MEMORY.resolve(BubblewrapRuntime.cgroupParent(f.stateDir));
            f.run(f.spec(Fixture.SMALL, "/bin/true"), "{}");
            Set<Long> spares = awaitSpares(f, parent);

            assertThat(f.runtime.reclaim()).as("spares are not counted as leftover instances").isZero();
            assertThat(parent).doesNotExist();
            for (long pid : spares) assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("spare " + pid).isNotEqualTo(java.util.Optional.of(true));
            // And the runtime still works, making new spares.
            assertThat(f.run(f.spec(Fixture.SMALL, "/bin/true"), "{}").outcome()).isEqualTo(new Outcome.Exited(0, "", false));
        }
    }

    /** Waits until two spares are ready (each in its own _spare.* cgroup) and returns their pids. */
    private static Set<Long> awaitSpares(Fixture f, Path parent) throws Exception {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (true) {
            try (Stream<Path> kids = Files.list(parent)) {
                List<Path> spares = kids.filter(p -> p.getFileName().toString().startsWith(Spares.PREFIX)).toList();
                Set<Long> pids = new java.util.TreeSet<>();
                for (Path s : spares) pids.addAll(Cgroup.pids(s.resolve("cgroup.procs")));
                if (f.runtime.spares().orElseThrow().ready() == 2 && spares.size() == 2 && pids.size() == 2) return pids;
            }
            assertThat(System.nanoTime()).as("two spares within 10 s").isLessThan(deadline);
            Thread.sleep(20);
        }
    }
}
