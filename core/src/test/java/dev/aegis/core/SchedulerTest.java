package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SchedulerTest {
    final List<String> started = new ArrayList<>();

    Scheduler.Job job(String tenant, String agent, int limit, int priority, String name) {
        return new Scheduler.Job() {
            public String tenant() { return tenant; }
            public String agentKey() { return agent; }
            public int agentLimit() { return limit; }
            public int priority() { return priority; }
            public void start() { started.add(name); }
            public String toString() { return name; }
        };
    }

    @Test
    void oneTenantsBurstDoesNotStarveAnother() {
        Scheduler s = new Scheduler(1, 1000, 1000);
        List<Scheduler.Job> a = new ArrayList<>();
        for (int i = 0; i < 50; i++) a.add(job("a", "x", 10, 5, "a" + i));
        a.forEach(s::enqueue);
        for (int i = 0; i < 3; i++) s.enqueue(job("b", "y", 10, 5, "b" + i));
        assertThat(started).containsExactly("a0");
        for (int i = 0; i < 6; i++) s.finished(a.getFirst());
        // After a0, turns alternate: b0 a1 b1 a2 b2 a3.
        assertThat(started).containsExactly("a0", "b0", "a1", "b1", "a2", "b2", "a3");
    }

    @Test
    void priorityThenArrivalWithinATenant() {
        Scheduler s = new Scheduler(1, 100, 100);
        Scheduler.Job first = job("t", "x", 10, 5, "first");
        s.enqueue(first);
        s.enqueue(job("t", "x", 10, 1, "low"));
        s.enqueue(job("t", "x", 10, 9, "urgent"));
        s.enqueue(job("t", "x", 10, 5, "normal"));
        for (int i = 0; i < 3; i++) s.finished(first);
        assertThat(started).containsExactly("first", "urgent", "normal", "low");
    }

    @Test
    void perAgentLimitLetsOtherAgentsOvertake() {
        Scheduler s = new Scheduler(10, 100, 100);
        Scheduler.Job x1 = job("t", "x", 1, 5, "x1");
        s.enqueue(x1);
        s.enqueue(job("t", "x", 1, 5, "x2"));
        s.enqueue(job("t", "y", 1, 5, "y1"));
        assertThat(started).containsExactly("x1", "y1");
        assertThat(s.queued()).isEqualTo(1);
        s.finished(x1);
        assertThat(started).containsExactly("x1", "y1", "x2");
    }

    @Test
    void fullQueuesRefuseAndCancelledJobsNeverStart() {
        Scheduler s = new Scheduler(1, 3, 2);
        s.enqueue(job("a", "x", 5, 5, "run"));
        Scheduler.Job q1 = job("a", "x", 5, 5, "q1");
        s.enqueue(q1);
        s.enqueue(job("a", "x", 5, 5, "q2"));
        assertThatThrownBy(() -> s.enqueue(job("a", "x", 5, 5, "q3")))
                .satisfies(e -> assertThat(((AegisException) e).code()).isEqualTo("rate_limited"));
        s.enqueue(job("b", "x", 5, 5, "b1"));
        assertThatThrownBy(() -> s.enqueue(job("c", "x", 5, 5, "c1")))
                .satisfies(e -> assertThat(((AegisException) e).code()).isEqualTo("overloaded"));
        assertThat(s.remove(q1)).isTrue();
        assertThat(s.remove(q1)).isFalse();
        assertThat(s.queued()).isEqualTo(2);
        Scheduler.Job any = job("a", "x", 5, 5, "any");
        s.finished(any);
        s.finished(any);
        s.finished(any);
        assertThat(started).containsExactly("run", "b1", "q2").doesNotContain("q1");
        assertThat(s.running()).isZero();
    }
}
