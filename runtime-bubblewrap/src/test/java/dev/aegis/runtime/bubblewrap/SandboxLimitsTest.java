package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.InstanceId;
import dev.aegis.core.Manifest.Resources;
import dev.aegis.core.Outcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Runaway agents: each is stopped by its limit, ends with the right outcome, and leaves nothing behind. */
class SandboxLimitsTest {
    static Fixture f;

    @BeforeAll
    static void setUp() throws Exception {
        f = new Fixture();
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    static Resources limits(long memory, int pids, Duration timeout) {
        return new Resources(1.0, memory, pids, 16L << 20, timeout);
    }

    @Test
    void timeoutKillsTheWholeTreeIncludingADoubleForkedChild() {
        var run = f.run(f.spec(limits(256L << 20, 64, Duration.ofSeconds(1)), "/bin/sh", "-c",
                "(setsid sleep 1000 &); sleep 1000 & echo started >&2; wait"), "{}");
        assertThat(run.outcome()).isEqualTo(new Outcome.TimedOut(Duration.ofSeconds(1)));
        assertThat(run.took()).isLessThan(Duration.ofSeconds(3));
        assertThat(run.logs()).containsExactly("started");
        assertThat(Fixture.processesMentioning("sleep 1000")).isEmpty();
    }

    @Test
    void forkBombIsHeldByThePidsLimitAndKilledAtTimeout() throws Exception {
        var spec = f.spec(limits(256L << 20, 32, Duration.ofSeconds(2)), "/bin/sh", "-c",
                """
                [ "$(hostname)" = aegis ] || exit 99
                # every process forks forever and retries when the pids limit says no: the bomb never dies out
                exec python3 -c '
                import os, time
                while True:
                    try:
                        os.fork()
                    except OSError:
                        time.sleep(0.001)
                '""");
        InstanceId id = f.runtime.spawn(spec);
        Path current = Path.of("/sys/fs/cgroup/pids", BubblewrapRuntime.cgroupParent(f.stateDir), id.value(), "pids.current");
        AtomicLong peak = new AtomicLong();
        var execution = CompletableFuture.supplyAsync(() -> f.runtime.execute(id, "{}", l -> {}));
        while (!execution.isDone()) {
            try {
                peak.accumulateAndGet(Long.parseLong(Files.readString(current).strip()), Math::max);
            } catch (Exception gone) {
                // the cgroup is removed at the end
            }
            Thread.sleep(20);
        }
        assertThat(execution.get()).isEqualTo(new Outcome.TimedOut(Duration.ofSeconds(2)));
        assertThat(peak.get()).isBetween(10L, 32L);
        f.runtime.terminate(id);
        f.assertNothingLeft(id);
    }

    @Test
    void memoryHogIsKilledOutOfMemory() {
        var run = f.run(f.spec(limits(64L << 20, 64, Duration.ofSeconds(20)), "python3", "-c",
                "b = b'x' * (1 << 30); print('survived')"), "{}");
        assertThat(run.outcome()).isEqualTo(new Outcome.Killed("out of memory: limit 64Mi"));
    }

    @Test
    void hundredMegabytesOnStdoutAreTruncatedAndTheAgentKilledFast() {
        var run = f.run(f.spec(limits(256L << 20, 64, Duration.ofSeconds(30)), "/bin/sh", "-c",
                "head -c 100000000 /dev/zero | tr '\\0' x; echo never >&2"), "{}");
        assertThat(run.outcome()).isInstanceOfSatisfying(Outcome.Exited.class, e -> {
            assertThat(e.outputTruncated()).isTrue();
            assertThat(e.output()).hasSize(1 << 20).matches("x+");
            assertThat(e.code()).isNotZero();
        });
        assertThat(run.took()).isLessThan(Duration.ofSeconds(3));
        assertThat(run.logs()).doesNotContain("never");
    }

    @Test
    void oversizedResultJsonIsTruncated() {
        var run = f.run(f.spec(limits(256L << 20, 64, Duration.ofSeconds(10)), "/bin/sh", "-c",
                "head -c 3000000 /dev/zero | tr '\\0' y > /run/aegis/result.json"), "{}");
        assertThat(run.outcome()).isInstanceOfSatisfying(Outcome.Exited.class, e -> {
            assertThat(e.outputTruncated()).isTrue();
            assertThat(e.output()).hasSize(1 << 20);
        });
    }
}
