package dev.aegis.memory;

import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditLog;
import dev.aegis.core.Memory;
import dev.aegis.core.Task;
import dev.aegis.core.TaskState;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * After each task: its logs, its tool calls' results and its result (with the input that led to it) are cut into
 * overlapping token windows, deduplicated by content hash against the agent's namespace (nothing stored already is
 * embedded again), embedded and stored, on a worker of its own. Ended tasks wait in a bounded queue; the worker is
 * slowed by the {@link EmbeddingService}'s bounded queue, and when the task queue is full a task is counted as dropped
 * rather than hold anyone up: the task's own response never waits for indexing.
 */
final class IndexingPipeline implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IndexingPipeline.class);

    /** Per-tenant counters: waiting, tasks indexed, chunks skipped as duplicates, tasks dropped on a full queue. */
    record Counters(AtomicLong queued, AtomicLong indexed, AtomicLong duplicates, AtomicLong dropped) {
        Counters() {
            this(new AtomicLong(), new AtomicLong(), new AtomicLong(), new AtomicLong());
        }
    }

    /** Texts embedded between two looks at {@link #closing}. */
    private static final int SLICE = 32;

    /** Thrown out of {@link #index} when the pipeline closes in the middle of a task: nothing of it is stored. */
    private static final class Closing extends RuntimeException {
        Closing() {
            super("closing", null, false, false);
        }
    }

    private final Function<String, TenantIndex> indexes;
    private final EmbeddingService embeddings;
    private final Cortex.TaskSource tasks;
    private final AuditLog audit;
    private final Clock clock;
    private final int chunkTokens, overlap;
    private final BlockingQueue<Ended> queue;
    private final Map<String, Counters> counters = new ConcurrentHashMap<>();
    private final Thread worker;
    private final Object idle = new Object();
    /** Tasks accepted and not yet indexed; counted at offer, so a task just taken off the queue still counts. */
    private final java.util.concurrent.atomic.AtomicInteger pending = new java.util.concurrent.atomic.AtomicInteger();
    private volatile boolean closing;

    IndexingPipeline(Function<String, TenantIndex> indexes, EmbeddingService embeddings, Cortex.TaskSource tasks, AuditLog audit, Clock clock,
                     int chunkTokens, int overlap, int capacity) {
        this.indexes = indexes;
        this.embeddings = embeddings;
        this.tasks = tasks;
        this.audit = audit;
        this.clock = clock;
        this.chunkTokens = chunkTokens;
        this.overlap = overlap;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.worker = Thread.ofPlatform().daemon().name("memory-indexer").start(this::loop);
    }

    /** An ended task and its tool calls' results, in order. */
    record Ended(Task task, List<String> toolOutputs) {
        Ended {
            toolOutputs = List.copyOf(toolOutputs);
        }
    }

    /** Queues an ended task; never blocks. */
    void offer(Ended ended) {
        Task task = ended.task();
        Counters c = counters(task.tenant());
        pending.incrementAndGet();
        if (!closing && queue.offer(ended)) c.queued().incrementAndGet();
        else {
            pending.decrementAndGet();
            c.dropped().incrementAndGet();
            LOG.warn("memory: {}; task {} of {} is not remembered", closing ? "closing" : "indexing queue full (" + queue.size() + " tasks)",
                    task.id(), task.tenant());
        }
    }

    /**
     * Takes the queued tasks of {@code scope} out of the queue, so that memories deleted before their task was indexed
     * do not come back afterwards. Returns how many.
     */
    int forget(Memory.Scope scope) {
        int n = 0;
        for (Ended e : queue)
            if (e.task().tenant().equals(scope.tenant()) && switch (scope) {
                case Memory.Scope.Tenant t -> true;
                case Memory.Scope.Agent a -> tasks.namespace(e.task()).equals(a.agent());
                case Memory.Scope.TaskOf t -> e.task().id().equals(t.task());
            } && queue.remove(e)) {
                n++;
                counters(e.task().tenant()).queued().decrementAndGet();
                synchronized (idle) {
                    pending.decrementAndGet();
                    idle.notifyAll();
                }
            }
        return n;
    }

    Counters counters(String tenant) {
        return counters.computeIfAbsent(tenant, t -> new Counters());
    }

    /** Waits until every queued task is indexed (tests, demo, shutdown). */
    boolean awaitIdle(java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (idle) {
            while (pending.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return false;
                idle.wait(Math.max(1, left / 1_000_000));
            }
        }
        return true;
    }

    private void loop() {
        while (!closing) {
            Ended ended;
            try {
                ended = queue.poll(200, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (ended == null) continue;
            try {
                index(ended);
            } catch (Closing e) {
                counters(ended.task().tenant()).dropped().incrementAndGet();
                LOG.warn("memory: closing; task {} of {} is not remembered", ended.task().id(), ended.task().tenant());
            } catch (RuntimeException e) {
                LOG.error("memory: indexing task {} failed", ended.task().id(), e);
            } finally {
                counters(ended.task().tenant()).queued().decrementAndGet();
                synchronized (idle) {
                    pending.decrementAndGet();
                    idle.notifyAll();
                }
            }
        }
    }

    /** Chunks, dedupes, embeds and stores one task's leftovers. Returns how many new memories it made. */
    int index(Ended ended) {
        Task task = ended.task();
        String ns = tasks.namespace(task);
        TenantIndex index = indexes.apply(task.tenant());
        Optional<Boolean> success = Optional.of(task.state() == TaskState.SUCCEEDED);
        List<MemoryDoc> docs = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        Counters c = counters(task.tenant());
        add(docs, seen, c, index, task, ns, Memory.Kind.LOG, String.join("\n", tasks.lines(task)), success);
        for (String output : ended.toolOutputs()) add(docs, seen, c, index, task, ns, Memory.Kind.TOOL_OUTPUT, output, success);
        add(docs, seen, c, index, task, ns, Memory.Kind.RESULT, outcome(task), success);
        // In slices, so that closing waits for one slice, not for a task of megabytes of logs.
        List<float[]> vectors = new ArrayList<>(docs.size());
        for (int i = 0; i < docs.size(); i += SLICE) {
            if (closing) throw new Closing();
            vectors.addAll(embeddings.embed(docs.subList(i, Math.min(docs.size(), i + SLICE)).stream().map(MemoryDoc::text).toList()));
        }
        // Audit first, then store: a memory in the index is never missing from the audit log.
        if (!docs.isEmpty())
            audit.append(AuditEvent.of(task.tenant(), "system", "memory.index", "task:" + task.id(),
                    Map.of("memories", Integer.toString(docs.size()), "model", index.model())).withAgent(task.agent()).withTask(task.id()));
        index.add(docs, vectors);
        c.indexed().incrementAndGet();
        return docs.size();
    }

    private void add(List<MemoryDoc> docs, Set<String> seen, Counters c, TenantIndex index, Task task, String ns, Memory.Kind kind,
                     String text, Optional<Boolean> success) {
        for (String chunk : Tokens.chunks(text, chunkTokens, overlap)) {
            if (chunk.length() > Memory.MAX_TEXT) chunk = chunk.substring(0, Memory.MAX_TEXT); // a token of 64k characters
            String hash = MemoryDoc.contentHash(chunk);
            if (!seen.add(hash) || index.existing(ns, hash).isPresent()) {
                c.duplicates().incrementAndGet();
                continue;
            }
            docs.add(new MemoryDoc(UUID.randomUUID().toString(), ns, Optional.of(task.id()), kind, chunk, List.of(),
                    success, task.finishedAt().orElse(clock.instant()), hash));
        }
    }

    /** What was asked and what came of it, as one text: a memory of a task is useless without its question. */
    private static String outcome(Task task) {
        String asked = "Task input: " + task.input();
        if (task.result().isPresent()) return asked + "\nResult: " + task.result().get();
        return asked + "\nFailed" + task.error().map(e -> " (" + e.code() + "): " + e.message()).orElse("");
    }

    /**
     * Stops after the slice of embeddings in hand (the task it belongs to is not stored), never by an interrupt: one
     * inside Lucene's file I/O closes the index's channels and breaks its writer. Tasks still queued are not remembered
     * (counted as dropped).
     */
    @Override
    public void close() {
        closing = true;
        try {
            worker.join(java.time.Duration.ofSeconds(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        for (Ended e; (e = queue.poll()) != null; ) {
            counters(e.task().tenant()).queued().decrementAndGet();
            counters(e.task().tenant()).dropped().incrementAndGet();
            synchronized (idle) {
                pending.decrementAndGet();
                idle.notifyAll();
            }
        }
    }
}
