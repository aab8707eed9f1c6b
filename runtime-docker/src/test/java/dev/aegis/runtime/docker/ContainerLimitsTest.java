package dev.aegis.runtime.docker;

import dev.aegis.core.Manifest.Resources;
import dev.aegis.core.Outcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/** Timeouts, memory, pids and output caps: each limit hit for real, and the container gone afterwards. */
class ContainerLimitsTest {
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
    void timeoutKillsEverythingIncludingADoubleForkedChild() {
        var run = f.run(f.spec(limits(256L << 20, 64, Duration.ofSeconds(1)), "/bin/sh", "-c",
                "(setsid sleep 1000 &); sleep 1000 & echo started >&2; wait"), "{}");
        assertThat(run.outcome()).isEqualTo(new Outcome.TimedOut(Duration.ofSeconds(1)));
        assertThat(run.took()).isLessThan(Duration.ofSeconds(3));
        assertThat(run.logs()).containsExactly("started");
    }

    @Test
    void forkBombIsHeldByThePidsLimitAndKilledAtTimeout() {
        var run = f.run(f.spec(limits(256L << 20, 32, Duration.ofSeconds(2)), "python3", "-c", """
                import os, sys, time
                n = 0
                while n < 200:
                    try:
                        if os.fork() == 0:
                            time.sleep(1000)
                        n += 1
                    except OSError:
                        print(f"limit after {n} children", file=sys.stderr, flush=True)
                        time.sleep(1000)
                """), "{}");
        assertThat(run.outcome()).isEqualTo(new Outcome.TimedOut(Duration.ofSeconds(2)));
        assertThat(run.logs()).hasSize(1).first().asString().matches("limit after (2\\d|3[01]) children");
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
