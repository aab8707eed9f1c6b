package dev.aegis.memory;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Embeds texts in batches on a fixed pool of platform threads (one per core by default: the model is CPU bound).
 * At most {@code maxQueued} batches wait; a caller beyond that blocks in {@link #embed} until one is done, which is
 * the back-pressure the indexing pipeline feels. Queries do not queue behind indexing: {@link #embedQuery} runs on
 * the caller's thread, a few at a time.
 */
public final class EmbeddingService implements AutoCloseable {
    private final Embedder embedder;
    private final int batchSize;
    private final ExecutorService pool;
    private final Semaphore slots;
    private final Semaphore queries;
    private final AtomicLong embedded = new AtomicLong();

    public EmbeddingService(Embedder embedder, int threads, int batchSize, int maxQueued) {
        if (threads < 1 || batchSize < 1 || maxQueued < 1) throw new IllegalArgumentException("threads, batch and queue must be >= 1");
        this.embedder = embedder;
        this.batchSize = batchSize;
        this.pool = Executors.newFixedThreadPool(threads, Thread.ofPlatform().daemon().name("embed-", 0).factory());
        this.slots = new Semaphore(threads + maxQueued);
        this.queries = new Semaphore(Math.max(2, threads * 2));
    }

    public static EmbeddingService defaults(Embedder embedder) {
        int cores = Runtime.getRuntime().availableProcessors();
        return new EmbeddingService(embedder, cores, 16, cores * 4);
    }

    public Embedder embedder() {
        return embedder;
    }

    /** Vectors for every text, in order. Blocks while the queue is full; failures of the model come out here. */
    public List<float[]> embed(List<String> texts) {
        List<CompletableFuture<List<float[]>>> parts = new ArrayList<>();
        for (int i = 0; i < texts.size(); i += batchSize) {
            List<String> batch = texts.subList(i, Math.min(texts.size(), i + batchSize));
            slots.acquireUninterruptibly();
            try {
                parts.add(CompletableFuture.supplyAsync(() -> embedder.embed(batch), pool).whenComplete((v, e) -> slots.release()));
            } catch (RuntimeException e) {
                slots.release();
                throw e;
            }
        }
        List<float[]> out = new ArrayList<>(texts.size());
        for (CompletableFuture<List<float[]>> p : parts) {
            try {
                out.addAll(p.join());
            } catch (java.util.concurrent.CompletionException e) {
                throw e.getCause() instanceof RuntimeException r ? r : e;
            }
        }
        embedded.addAndGet(texts.size());
        return out;
    }

    public float[] embedQuery(String text) {
        queries.acquireUninterruptibly();
        try {
            return embedder.embedQuery(text);
        } finally {
            queries.release();
        }
    }

    /** Texts embedded so far. */
    public long embedded() {
        return embedded.get();
    }

    /** Lets queued batches finish (their callers are waiting for them), then stops the threads. */
    @Override
    public void close() {
        pool.shutdown();
    }
}
