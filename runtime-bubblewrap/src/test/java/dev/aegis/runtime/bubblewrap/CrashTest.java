package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.InstanceId;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A real orchestrator crash: a child JVM spawns a sandbox and is killed with SIGKILL. Its sandbox must die with it
 * (--die-with-parent), and a new runtime on the same state dir must reclaim the cgroup and folder.
 */
class CrashTest {

    /** The "orchestrator": spawns one sandbox from a short-lived virtual thread, reports it, then waits to be killed. */
    public static void main(String[] args) throws Exception {
        try (Fixture f = new Fixture(Path.of(args[0]))) {
            InstanceId[] id = new InstanceId[1];
            Thread.ofVirtual().start(() -> id[0] = f.runtime.spawn(f.spec(Fixture.SMALL, "sleep", "1000"))).join();
            System.out.println(id[0].value() + " " + f.runtime.pid(id[0]).orElseThrow());
            System.out.flush();
            Thread.sleep(60_000);
        }
    }

    @Test
    void sandboxesDieWithTheOrchestratorAndAreReclaimedAfterIt() throws Exception {
        try (Fixture f = new Fixture()) {
            String java = ProcessHandle.current().info().command().orElseThrow();
            Process orchestrator = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    CrashTest.class.getName(), f.root.toString()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String[] reported = new BufferedReader(new InputStreamReader(orchestrator.getInputStream())).readLine().split(" ");
            InstanceId id = new InstanceId(reported[0]);
            ProcessHandle bwrap = ProcessHandle.of(Long.parseLong(reported[1])).orElseThrow();
            assertThat(bwrap.isAlive()).isTrue();

            orchestrator.toHandle().destroyForcibly();
            assertThat(orchestrator.waitFor(5, TimeUnit.SECONDS)).isTrue();
            bwrap.onExit().get(5, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (!Fixture.processesMentioning(id.value()).isEmpty() && System.nanoTime() < deadline) Thread.sleep(10);
            assertThat(Fixture.processesMentioning(id.value())).as("sandbox processes after the crash").isEmpty();
            assertThat(f.runtime.instanceRoot().resolve(id.value())).as("left for reclaim").exists();

            assertThat(f.runtime.reclaim()).isEqualTo(1);
            f.assertNothingLeft(id);
        }
    }
}
