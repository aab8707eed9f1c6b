package dev.aegis.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.Memory;
import dev.aegis.core.Task;
import dev.aegis.core.TaskState;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Auto-indexing: what an ended task leaves behind becomes memories, incrementally, without holding the task up. */
class PipelineTest {
    @TempDir
    Path dir;
    final Map<String, List<String>> logs = new ConcurrentHashMap<>();

    private Task ended(String id, String agent, TaskState state, String input, String result) {
        Instant t = Instant.parse("2026-11-20T10:00:00Z");
        Task q = Task.queued(id, "acme", agent, input, t).running(t.plusSeconds(1));
        return state == TaskState.SUCCEEDED ? q.succeeded(result, 0, t.plusSeconds(5))
                : q.failed(state, new Task.TaskError("exit_code", "agent exited with code 3"), Optional.of(3), t.plusSeconds(5));
    }

    @Test
    void logsAndResultsAreChunkedDeduplicatedAndSearchable() throws Exception {
        StringBuilder longLog = new StringBuilder();
        for (int i = 0; i < 400; i++) longLog.append("fetched page ").append(i).append(" of the changelog\n");
        logs.put("t1", List.of("starting the release notes job", "release 4.2 drops support for Python 3.8", longLog.toString()));
        logs.put("t2", logs.get("t1"));
        try (Fixtures.Node node = Fixtures.cortex(dir, Fixtures.defaultModel(), java.time.Clock.systemUTC(), t -> logs.getOrDefault(t.id(), List.of()))) {
            Cortex cortex = node.cortex();
            cortex.taskEnded(ended("t1", "notes", TaskState.SUCCEEDED, "{\"repo\":\"acme/app\"}", "{\"summary\":\"4.2 removes Python 3.8\"}"));
            assertThat(cortex.awaitIndexed(Duration.ofSeconds(120))).isTrue();
            Memory.Stats first = cortex.stats("acme");
            assertThat(first.memories()).as("several log chunks and the result").isGreaterThan(3);
            assertThat(first.indexed()).isEqualTo(1);

            // The same output again (a retry of the task) adds only what is new: here, nothing but its result.
            cortex.taskEnded(ended("t2", "notes", TaskState.FAILED, "{\"repo\":\"acme/app\"}", null));
            assertThat(cortex.awaitIndexed(Duration.ofSeconds(60))).isTrue();
            Memory.Stats second = cortex.stats("acme");
            assertThat(second.memories()).isEqualTo(first.memories() + 1);
            assertThat(second.skippedDuplicates()).isPositive();

            List<Memory.Hit> hits = cortex.search(Memory.Query.of("acme", "which python version stops being supported", 3)).hits();
            assertThat(hits).anySatisfy(h -> {
                assertThat(h.text()).contains("Python 3.8");
                assertThat(h.task()).contains("t1");
                assertThat(h.success()).contains(true);
            });
            List<Memory.Hit> failed = cortex.search(new Memory.Query("acme", "release notes task result", Set.of(), Set.of(Memory.Kind.RESULT),
                    Optional.empty(), Set.of(), Optional.of(false), Optional.empty(), 3, Optional.empty(), Optional.empty(), Optional.empty())).hits();
            assertThat(failed).singleElement().satisfies(h -> assertThat(h.text()).contains("Failed (exit_code)"));
            assertThat(node.audit().query(AuditQuery.all(10).action("memory.index"))).extracting(r -> r.event().task())
                    .containsExactly(Optional.of("t1"), Optional.of("t2"));
        }
    }

    @Test
    void aFullQueueDropsRatherThanBlocks() throws Exception {
        FileAuditLogHolder h = new FileAuditLogHolder(dir);
        EmbeddingService slow = new EmbeddingService(new Embedder() {
            @Override public String id() { return "slow-test"; }
            @Override public int dimension() { return 4; }
            @Override public List<float[]> embed(List<String> texts) {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return texts.stream().map(t -> Embedder.normalize(new float[] {t.length(), 1, 2, 3})).toList();
            }
        }, 1, 8, 1);
        Cortex.Config config = new Cortex.Config(dir.resolve("memory"), Duration.ofDays(30), Map.of(), 0.1, 128, 24, 2);
        try (Cortex cortex = new Cortex(config, slow, h.audit, java.time.Clock.systemUTC(), t -> List.of("line of " + t.id()), s -> { })) {
            long t0 = System.nanoTime();
            for (int i = 0; i < 20; i++) cortex.taskEnded(ended("q" + i, "busy", TaskState.SUCCEEDED, "{}", "{\"n\":" + i + "}"));
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).as("handing over never waits for embedding").isLessThan(Duration.ofMillis(200));
            assertThat(cortex.awaitIndexed(Duration.ofSeconds(30))).isTrue();
            Memory.Stats s = cortex.stats("acme");
            assertThat(s.dropped()).isPositive();
            assertThat(s.indexed() + s.dropped()).isEqualTo(20);
            assertThat(s.queued()).isZero();
        } finally {
            h.audit.close();
        }
    }

    @Test
    void toolOutputsAreRememberedWithTheirTaskInTheNamespaceTheNodeGives() throws Exception {
        // The node's answer for billing-bot: a manifest that shares the finance-team namespace.
        Cortex.TaskSource shared = new Cortex.TaskSource() {
            @Override
            public List<String> lines(Task task) {
                return List.of("looked up the overdue invoices");
            }

            @Override
            public String namespace(Task task) {
                return task.agent().equals("billing-bot") ? "finance-team" : task.agent();
            }
        };
        try (Fixtures.Node node = Fixtures.cortex(dir, Fixtures.defaultModel(), java.time.Clock.systemUTC(), shared)) {
            Cortex cortex = node.cortex();
            cortex.toolOutput("acme", "t9", "http.fetch", "{\"url\":\"https://billing.example/invoices/4711\"}",
                    "{\"status\":200,\"body\":\"invoice 4711 is overdue since March; the customer is Globex Corporation\"}");
            cortex.toolOutput("acme", "still-running", "http.fetch", "{}", "nothing to see: Initech payroll");
            cortex.taskEnded(ended("t9", "billing-bot", TaskState.SUCCEEDED, "{}", "{\"overdue\":1}"));
            assertThat(cortex.awaitIndexed(Duration.ofSeconds(120))).isTrue();

            Memory.Stats stats = cortex.stats("acme");
            assertThat(stats.byAgent()).as("the shared namespace, not the agent's own").containsOnlyKeys("finance-team");
            List<Memory.Hit> hits = cortex.search(Memory.Query.of("acme", "which customer has an overdue invoice", 5)
                    .inAgents(Set.of("finance-team"))).hits();
            assertThat(hits).anySatisfy(h -> {
                assertThat(h.kind()).isEqualTo(Memory.Kind.TOOL_OUTPUT);
                assertThat(h.text()).startsWith("tool http.fetch(").contains("Globex Corporation");
                assertThat(h.task()).contains("t9");
            });
            // A running task's tool output waits for its task: nothing of it is searchable yet.
            assertThat(cortex.search(Memory.Query.of("acme", "Initech payroll", 5)).hits()).noneSatisfy(h -> assertThat(h.text()).contains("Initech"));
        }
    }

    @Test
    void memoriesDeletedBeforeTheirTaskIsIndexedDoNotComeBack() throws Exception {
        FileAuditLogHolder h = new FileAuditLogHolder(dir);
        EmbeddingService slow = new EmbeddingService(new Embedder() {
            @Override public String id() { return "slow-test"; }
            @Override public int dimension() { return 4; }
            @Override public List<float[]> embed(List<String> texts) {
                try {
                    Thread.sleep(300);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                return texts.stream().map(t -> Embedder.normalize(new float[] {t.length(), t.hashCode() % 7, 2, 3})).toList();
            }
        }, 1, 8, 1);
        Cortex.Config config = new Cortex.Config(dir.resolve("memory"), Duration.ofDays(30), Map.of(), 0.1, 128, 24, 100);
        try (Cortex cortex = new Cortex(config, slow, h.audit, java.time.Clock.systemUTC(), t -> List.of("line of " + t.id()), s -> { })) {
            for (int i = 0; i < 5; i++) cortex.taskEnded(ended("d" + i, "ops", TaskState.SUCCEEDED, "{}", "{\"n\":" + i + "}"));
            // d0 is being embedded (300 ms); d3 still waits in the queue when its memories are deleted.
            assertThat(cortex.delete(new Memory.Scope.TaskOf("acme", "d3"))).isZero();
            assertThat(cortex.awaitIndexed(Duration.ofSeconds(30))).isTrue();
            Memory.Stats s = cortex.stats("acme");
            assertThat(s.memories()).as("two memories (log, result) for each task but d3").isEqualTo(8);
            assertThat(s.indexed()).isEqualTo(4);
            assertThat(h.audit.query(AuditQuery.all(100).action("memory.delete"))).singleElement()
                    .satisfies(r -> assertThat(r.event().target()).isEqualTo("task:d3"));
        } finally {
            h.audit.close();
        }
    }

    /** A real audit log for the test that builds its own Cortex. */
    record FileAuditLogHolder(dev.aegis.audit.FileAuditLog audit) {
        FileAuditLogHolder(Path dir) {
            this(dev.aegis.audit.FileAuditLog.open(dir.resolve("audit")));
        }
    }
}
