package dev.aegis.runtime.docker;

import dev.aegis.core.InstanceId;
import dev.aegis.core.InstanceState;
import dev.aegis.core.Outcome;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A new runtime on the same state dir removes what a crashed orchestrator left behind, and nothing else. */
class ReclaimTest {

    @Test
    void reclaimsTheContainersOfTheSameStateDirOnly() throws Exception {
        try (Fixture crashed = new Fixture(); Fixture neighbour = new Fixture()) {
            InstanceId a = crashed.runtime.spawn(crashed.spec(Fixture.SMALL, "sleep", "1000"));
            InstanceId b = crashed.runtime.spawn(crashed.spec(Fixture.SMALL, "cat"));
            InstanceId other = neighbour.runtime.spawn(neighbour.spec(Fixture.SMALL, "cat"));
            // Another orchestrator's leftover on the same engine: our labels, another owner.
            String stranger = crashed.runtime.client().createContainerCmd(DockerRuntime.DEFAULT_IMAGE).withName("aegis-test-stranger-" + ProcessHandle.current().pid())
                    .withLabels(Map.of(DockerRuntime.OWNER_LABEL, "aegis-00000000", DockerRuntime.INSTANCE_LABEL, "stranger")).withCmd("true").exec().getId();
            Path stray = Files.writeString(crashed.stateDir.resolve("not-an-instance.txt"), "keep me");
            Path foreignDir = Files.createDirectories(crashed.stateDir.resolve("foreign"));
            Files.writeString(foreignDir.resolve("file"), "keep me too");
            try {
                // The orchestrator "crashed": a fresh runtime on its state dir knows nothing of a and b.
                try (DockerRuntime restarted = new DockerRuntime(crashed.stateDir)) {
                    assertThat(restarted.reclaim()).isEqualTo(2);
                    assertThat(restarted.reclaim()).isZero();
                }
                crashed.assertNothingLeft(a);
                crashed.assertNothingLeft(b);
                crashed.runtime.terminate(a); // the old runtime object forgets them; nothing left to release
                crashed.runtime.terminate(b);
                assertThat(stray).exists();
                assertThat(foreignDir.resolve("file")).exists();
                assertThat(crashed.runtime.client().inspectContainerCmd(stranger).exec().getId()).isEqualTo(stranger);
                assertThat(neighbour.runtime.status(other)).isEqualTo(InstanceState.WARM);
                assertThat(neighbour.runtime.execute(other, "still here", l -> {})).isEqualTo(new Outcome.Exited(0, "still here", false));
                neighbour.runtime.terminate(other);
                neighbour.assertNothingLeft(other);
            } finally {
                crashed.runtime.client().removeContainerCmd(stranger).withForce(true).exec();
            }
        }
    }

    @Test
    void reclaimKeepsTheLiveInstancesOfItsOwnRuntime() throws Exception {
        try (Fixture f = new Fixture()) {
            InstanceId live = f.runtime.spawn(f.spec(Fixture.SMALL, "cat"));
            assertThat(f.runtime.reclaim()).isZero();
            assertThat(f.runtime.execute(live, "ok", l -> {})).isEqualTo(new Outcome.Exited(0, "ok", false));
            f.runtime.terminate(live);
            f.assertNothingLeft(live);
        }
    }
}
