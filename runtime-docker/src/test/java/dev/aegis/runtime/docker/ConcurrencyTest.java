package dev.aegis.runtime.docker;

import dev.aegis.core.Outcome;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/** Many tasks at once through one runtime: each gets its own output, logs and container, and all are cleaned up. */
class ConcurrencyTest {
    static Fixture f;

    @BeforeAll
    static void setUp() throws Exception {
        f = new Fixture();
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    @Test
    void eightTasksRunConcurrentlyAndStayApart() throws Exception {
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Fixture.Run>> runs = IntStream.range(0, 8).mapToObj(i -> pool.submit(() -> f.run(f.spec(Fixture.SMALL,
                    "/bin/sh", "-c", "echo log-$(cat) >&2; sleep 1; echo $(cat /run/aegis/task.json) > /workspace/me; cat /workspace/me"),
                    "task-" + i))).toList();
            long t0 = System.nanoTime();
            for (int i = 0; i < runs.size(); i++) {
                Fixture.Run run = runs.get(i).get();
                assertThat(run.outcome()).isEqualTo(new Outcome.Exited(0, "task-" + i + "\n", false));
                assertThat(run.logs()).containsExactly("log-task-" + i);
            }
            // Each sleeps 1 s: run one after another they would take 8 s or more.
            assertThat((System.nanoTime() - t0) / 1_000_000).isLessThan(6_000);
        }
    }
}
