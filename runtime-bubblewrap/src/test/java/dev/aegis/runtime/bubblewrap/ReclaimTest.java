package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.InstanceId;
import dev.aegis.core.InstanceState;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** A new runtime on the same state dir cleans up what a crashed orchestrator left behind, and nothing else. */
class ReclaimTest {

    @Test
    void reclaimsAnInstanceWhoseBwrapWasKilled() throws Exception {
        try (Fixture f = new Fixture()) {
            InstanceId id = f.runtime.spawn(f.spec(Fixture.SMALL, "sleep", "1000"));
            ProcessHandle.of(f.runtime.pid(id).orElseThrow()).orElseThrow().destroyForcibly();
            var restarted = new BubblewrapRuntime(f.stateDir);
            assertThat(restarted.reclaim()).isEqualTo(1);
            f.assertNothingLeft(id);
            f.runtime.terminate(id); // the old runtime object forgets it; nothing left to release
        }
    }

    @Test
    void reclaimsLiveSandboxesOfTheSameStateDirOnly() throws Exception {
        try (Fixture crashed = new Fixture(); Fixture neighbour = new Fixture()) {
            InstanceId a = crashed.runtime.spawn(crashed.spec(Fixture.SMALL, "sleep", "1000"));
            InstanceId b = crashed.runtime.spawn(crashed.spec(Fixture.SMALL, "sleep", "1000"));
            InstanceId other = neighbour.runtime.spawn(neighbour.spec(Fixture.SMALL, "sleep", "1000"));
            Path stray = Files.writeString(crashed.runtime.instanceRoot().resolve("not-an-instance.txt"), "keep me");
            Path foreignDir = Files.createDirectories(crashed.runtime.instanceRoot().resolve("foreign"));
            Files.writeString(foreignDir.resolve("file"), "keep me too");

            assertThat(new BubblewrapRuntime(crashed.stateDir).reclaim()).isEqualTo(2);

            crashed.assertNothingLeft(a);
            crashed.assertNothingLeft(b);
            crashed.runtime.terminate(a);
            crashed.runtime.terminate(b);
            assertThat(stray).exists();
            assertThat(foreignDir.resolve("file")).exists();
            Files.delete(stray); // on tmpfs, outside the fixture's temp folder
            InstanceFolder.delete(foreignDir);
            assertThat(neighbour.runtime.status(other)).isEqualTo(InstanceState.WARM);
            assertThat(neighbour.runtime.pid(other).flatMap(ProcessHandle::of).map(ProcessHandle::isAlive)).contains(true);
            neighbour.runtime.terminate(other);
            neighbour.assertNothingLeft(other);
        }
    }

    @Test
    void reclaimWithNothingToDoReturnsZeroAndRemovesTheParentCgroup() throws Exception {
        try (Fixture f = new Fixture()) {
            f.sh("true");
            assertThat(f.runtime.reclaim()).isZero();
            String parent = BubblewrapRuntime.cgroupParent(f.stateDir);
            assertThat(Path.of("/sys/fs/cgroup/memory", parent)).doesNotExist();
            assertThat(Path.of("/sys/fs/cgroup/pids", parent)).doesNotExist();
        }
    }
}
