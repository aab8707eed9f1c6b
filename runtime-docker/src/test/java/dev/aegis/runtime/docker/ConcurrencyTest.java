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
                    "/bin/sh", "-c", "echo log-$(cat) >&2; date +%s%N >&2; sleep 1; date +%s%N >&2; echo $(cat /run/aegis/task.json) > /workspace/me; cat /workspace/me"),
                    "task-" + i))).toList();
            List<long[]> sleeps = new java.util.ArrayList<>();
            for (int i = 0; i < runs.size(); i++) {
                Fixture.Run run = runs.get(i).get();
                assertThat(run.outcome()).isEqualTo(new Outcome.Exited(0, "task-" + i + "\n", false));
                assertThat(run.logs()).hasSize(3).first().isEqualTo("log-task-" + i);
                sleeps.add(new long[] {Long.parseLong(run.logs().get(1)), Long.parseLong(run.logs().get(2))});
            }
            // Each task sleeps 1 s between two clock readings: one after another, no two sleeps would overlap. Counting
            // overlaps rather than bounding wall time keeps the test honest on a slow, loaded machine.
            long mostAtOnce = sleeps.stream().mapToLong(a -> sleeps.stream().filter(b -> b[0] <= a[0] && a[0] < b[1]).count()).max().orElse(0);
            assertThat(mostAtOnce).as("tasks sleeping at the same moment").isGreaterThanOrEqualTo(4);
        }
    }
}
