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
 * After each task: its logs and its result (with the input that led to it) are cut into overlapping token
 * windows, deduplicated by content hash against the agent's namespace (nothing stored already is embedded again),
 * embedded and stored, on a worker of its own. Ended tasks wait in a bounded queue; the worker is slowed by the
 * {@link EmbeddingService}'s bounded queue, and when the task queue is full a task is counted as dropped rather than
 * hold anyone up: the task's own response never waits for indexing.
 */
final class IndexingPipeline implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IndexingPipeline.class);

    /** A task's log lines (as stored), for the pipeline to read when it gets to the task. */
    interface TaskLogs {
        List<String> lines(Task task);
    }

    /** Per-tenant counters: waiting, tasks indexed, chunks skipped as duplicates, tasks dropped on a full queue. */
    record Counters(AtomicLong queued, AtomicLong indexed, AtomicLong duplicates, AtomicLong dropped) {
        Counters() {
            this(new AtomicLong(), new AtomicLong(), new AtomicLong(), new AtomicLong());
        }
    }

    private final Function<String, TenantIndex> indexes;
    private final EmbeddingService embeddings;
    private final TaskLogs logs;
    private final AuditLog audit;
    private final Clock clock;
    private final int chunkTokens, overlap;
    private final BlockingQueue<Task> queue;
    private final Map<String, Counters> counters = new ConcurrentHashMap<>();
    private final Thread worker;
    private final Object idle = new Object();
    /** Tasks accepted and not yet indexed; counted at offer, so a task just taken off the queue still counts. */
    private final java.util.concurrent.atomic.AtomicInteger pending = new java.util.concurrent.atomic.AtomicInteger();

    IndexingPipeline(Function<String, TenantIndex> indexes, EmbeddingService embeddings, TaskLogs logs, AuditLog audit, Clock clock,
                     int chunkTokens, int overlap, int capacity) {
        this.indexes = indexes;
        this.embeddings = embeddings;
        this.logs = logs;
        this.audit = audit;
        this.clock = clock;
        this.chunkTokens = chunkTokens;
        this.overlap = overlap;
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.worker = Thread.ofPlatform().daemon().name("memory-indexer").start(this::loop);
    }

    /** Queues an ended task; never blocks. */
    void offer(Task task) {
        Counters c = counters(task.tenant());
        pending.incrementAndGet();
        if (queue.offer(task)) c.queued().incrementAndGet();
        else {
            pending.decrementAndGet();
            c.dropped().incrementAndGet();
            LOG.warn("memory: indexing queue full ({} tasks); task {} of {} is not remembered", queue.size(), task.id(), task.tenant());
        }
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
        while (!Thread.currentThread().isInterrupted()) {
            Task task;
            try {
                task = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            try {
                index(task);
            } catch (RuntimeException e) {
                LOG.error("memory: indexing task {} failed", task.id(), e);
            } finally {
                counters(task.tenant()).queued().decrementAndGet();
                synchronized (idle) {
                    pending.decrementAndGet();
                    idle.notifyAll();
                }
            }
        }
    }

    /** Chunks, dedupes, embeds and stores one task's leftovers. Returns how many new memories it made. */
    int index(Task task) {
        TenantIndex index = indexes.apply(task.tenant());
        Optional<Boolean> success = Optional.of(task.state() == TaskState.SUCCEEDED);
        List<MemoryDoc> docs = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        Counters c = counters(task.tenant());
        add(docs, seen, c, index, task, Memory.Kind.LOG, String.join("\n", logs.lines(task)), success);
        add(docs, seen, c, index, task, Memory.Kind.RESULT, outcome(task), success);
        List<float[]> vectors = embeddings.embed(docs.stream().map(MemoryDoc::text).toList());
        // Audit first, then store: a memory in the index is never missing from the audit log.
        if (!docs.isEmpty())
            audit.append(AuditEvent.of(task.tenant(), "system", "memory.index", "task:" + task.id(),
                    Map.of("memories", Integer.toString(docs.size()), "model", index.model())).withAgent(task.agent()).withTask(task.id()));
        index.add(docs, vectors);
        c.indexed().incrementAndGet();
        return docs.size();
    }

    private void add(List<MemoryDoc> docs, Set<String> seen, Counters c, TenantIndex index, Task task, Memory.Kind kind, String text,
                     Optional<Boolean> success) {
        for (String chunk : Tokens.chunks(text, chunkTokens, overlap)) {
            if (chunk.length() > Memory.MAX_TEXT) chunk = chunk.substring(0, Memory.MAX_TEXT); // a token of 64k characters
            String hash = MemoryDoc.contentHash(chunk);
            if (!seen.add(hash) || index.existing(task.agent(), hash).isPresent()) {
                c.duplicates().incrementAndGet();
                continue;
            }
            docs.add(new MemoryDoc(UUID.randomUUID().toString(), task.agent(), Optional.of(task.id()), kind, chunk, List.of(),
                    success, task.finishedAt().orElse(clock.instant()), hash));
        }
    }

    /** What was asked and what came of it, as one text: a memory of a task is useless without its question. */
    private static String outcome(Task task) {
        String asked = "Task input: " + task.input();
        if (task.result().isPresent()) return asked + "\nResult: " + task.result().get();
        return asked + "\nFailed" + task.error().map(e -> " (" + e.code() + "): " + e.message()).orElse("");
    }

    @Override
    public void close() {
        worker.interrupt();
    }
}
