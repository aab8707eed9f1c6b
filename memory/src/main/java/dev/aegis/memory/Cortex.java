package dev.aegis.memory;

import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditLog;
import dev.aegis.core.Hashes;
import dev.aegis.core.Memory;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Task;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import org.apache.lucene.search.MatchAllDocsQuery;

/**
 * The {@link Memory} of one node: a Lucene index per tenant under {@code home}, one embedding service, and the
 * auto-indexing pipeline. Every write and delete is audited before it is acknowledged.
 */
public final class Cortex implements Memory, AutoCloseable {
    /**
     * @param halfLife        recency half-life of memories; {@code halfLifeByAgent} overrides it per agent
     * @param minSimilarity   cosine floor of relevance (model-dependent: see {@link #defaultFloor})
     * @param chunkTokens     chunk size of task output, in {@link Tokens}; {@code chunkOverlap} shared by neighbours
     * @param queueCapacity   ended tasks waiting for indexing before more are dropped
     */
    public record Config(Path home, Duration halfLife, Map<String, Duration> halfLifeByAgent, double minSimilarity,
                         int chunkTokens, int chunkOverlap, int queueCapacity) {
        public Config {
            halfLifeByAgent = Map.copyOf(halfLifeByAgent);
        }

        public static Config defaults(Path home, Embedder embedder) {
            return new Config(home, Duration.ofDays(30), Map.of(), defaultFloor(embedder.id()), 128, 24, 1024);
        }
    }

    /**
     * The cosine under which a memory counts as unrelated, per model: the models spread cosines differently (bge's
     * unrelated pairs sit near 0.4, MiniLM's near 0). Measured on the labelled set (RetrievalQualityTest).
     */
    public static double defaultFloor(String model) {
        return model.startsWith("bge-") ? 0.55 : 0.2;
    }

    /**
     * What the pipeline reads about an ended task when it gets to it, never on the task's own path (each may be a
     * store query): its log lines as stored, and the namespace its memories go to.
     */
    public interface TaskSource {
        List<String> lines(Task task);

        /** Its agent's own namespace unless the node knows better (a manifest's {@code memory_namespace}). */
        default String namespace(Task task) {
            return task.agent();
        }
    }

    private static final Pattern SAFE = Pattern.compile("[a-z][a-z0-9-]{0,62}");
    /** Tool results kept per running task: at most this many tasks, outputs per task and characters per task. */
    private static final int OUTPUT_TASKS = 4096, OUTPUTS_PER_TASK = 64, OUTPUT_CHARS_PER_TASK = 1 << 20;

    private final Config config;
    private final EmbeddingService embeddings;
    private final AuditLog audit;
    private final Clock clock;
    private final Consumer<String> progress;
    private final Map<String, TenantIndex> indexes = new ConcurrentHashMap<>();
    private final IndexingPipeline pipeline;
    /** Tool results of running tasks, by tenant/task, until the task ends. */
    private final Map<String, List<String>> toolOutputs = new ConcurrentHashMap<>();
    private HybridSearch.Settings settings;

    public Cortex(Config config, EmbeddingService embeddings, AuditLog audit, Clock clock, TaskSource tasks,
                  Consumer<String> progress) {
        this.config = config;
        this.embeddings = embeddings;
        this.audit = audit;
        this.clock = clock;
        this.progress = progress;
        this.settings = new HybridSearch.Settings(config.halfLife(), config.halfLifeByAgent(), config.minSimilarity(), 64, 0.4, 0.985, 0.8);
        this.pipeline = new IndexingPipeline(this::index, embeddings, tasks, audit, clock, config.chunkTokens(), config.chunkOverlap(),
                config.queueCapacity());
    }

    TenantIndex index(String tenant) {
        return indexes.computeIfAbsent(tenant, t -> TenantIndex.open(config.home().resolve(folder(t)), embeddings.embedder(), progress));
    }

    /** Tenant names are already safe as folder names; anything else is hex, so no name can walk out of home. */
    private static String folder(String tenant) {
        return SAFE.matcher(tenant).matches() ? tenant : "x-" + java.util.HexFormat.of().formatHex(tenant.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Override
    public void taskEnded(Task task) {
        List<String> outputs = toolOutputs.remove(task.tenant() + "/" + task.id());
        // A task refused or cancelled in the queue did nothing worth keeping.
        if (task.startedAt().isPresent()) pipeline.offer(new IndexingPipeline.Ended(task, outputs == null ? List.of() : outputs));
    }

    /**
     * Kept until the task ends, as "tool NAME(ARGUMENTS) returned: RESULT", bounded (a task that calls tools in a loop
     * must not fill the heap): past the bounds, further outputs of the task are not remembered.
     */
    @Override
    public void toolOutput(String tenant, String task, String tool, String arguments, String result) {
        String key = tenant + "/" + task;
        if (toolOutputs.size() >= OUTPUT_TASKS && !toolOutputs.containsKey(key)) return;
        String args = arguments.length() > 1024 ? arguments.substring(0, 1024) + "…" : arguments;
        String text = "tool " + tool + "(" + args + ") returned: " + result;
        toolOutputs.compute(key, (k, list) -> {
            List<String> l = list == null ? new java.util.ArrayList<>() : list;
            int used = l.stream().mapToInt(String::length).sum();
            if (l.size() < OUTPUTS_PER_TASK && used < OUTPUT_CHARS_PER_TASK)
                l.add(text.length() > OUTPUT_CHARS_PER_TASK - used ? text.substring(0, OUTPUT_CHARS_PER_TASK - used) : text);
            return l;
        });
    }

    /**
     * Loads the embedding model on a background thread now, so that the first memory or query does not wait for it;
     * completes with how long loading and a first embedding took (milliseconds when it was loaded already). For
     * commands that will use memory soon.
     */
    public java.util.concurrent.CompletableFuture<Duration> preload() {
        return java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            long t0 = System.nanoTime();
            embeddings.embedQuery("warm up");
            return Duration.ofNanos(System.nanoTime() - t0);
        }, r -> Thread.ofPlatform().daemon().name("memory-preload").start(r));
    }

    /** Waits until every ended task handed over so far is indexed. */
    public boolean awaitIndexed(Duration timeout) throws InterruptedException {
        return pipeline.awaitIdle(timeout);
    }

    @Override
    public Result search(Query query) {
        TenantIndex index = index(query.tenant());
        float[] qv = embeddings.embedQuery(query.text());
        return HybridSearch.run(index, query, qv, clock.instant(), settings);
    }

    @Override
    public String store(Note note) {
        return storeAll(List.of(note)).getFirst();
    }

    /**
     * Stores notes of one tenant with one embedding pass and one commit; durable and searchable on return.
     * A note whose text its agent's namespace holds already is not stored again: its existing id is returned.
     */
    public List<String> storeAll(List<Note> notes) {
        return storeAll(notes, null);
    }

    /**
     * As {@link #storeAll(List)} with vectors computed already (imports, benchmarks): they must come from this
     * node's embedding model, one per note, of its dimension.
     */
    public List<String> storeAll(List<Note> notes, List<float[]> precomputed) {
        if (notes.isEmpty()) return List.of();
        if (precomputed != null && precomputed.size() != notes.size()) throw new IllegalArgumentException("one vector per note");
        String tenant = notes.getFirst().tenant();
        if (notes.stream().anyMatch(n -> !n.tenant().equals(tenant))) throw new IllegalArgumentException("notes of one tenant only");
        TenantIndex index = index(tenant);
        List<String> ids = new java.util.ArrayList<>();
        List<MemoryDoc> fresh = new java.util.ArrayList<>();
        List<float[]> given = new java.util.ArrayList<>();
        Map<String, String> batch = new java.util.HashMap<>();
        for (Note note : notes) {
            String hash = MemoryDoc.contentHash(note.text());
            Optional<String> same = index.existing(note.agent(), hash).or(() -> Optional.ofNullable(batch.get(note.agent() + "\0" + hash)));
            if (same.isPresent()) {
                ids.add(same.get()); // stored before: storing again changes nothing
                continue;
            }
            MemoryDoc doc = new MemoryDoc(UUID.randomUUID().toString(), note.agent(), note.task(), note.kind(), note.text(), note.tags(),
                    note.success(), clock.instant(), hash);
            batch.put(note.agent() + "\0" + hash, doc.id());
            fresh.add(doc);
            if (precomputed != null) given.add(precomputed.get(ids.size()));
            ids.add(doc.id());
        }
        List<float[]> vectors = precomputed != null ? given : embeddings.embed(fresh.stream().map(MemoryDoc::text).toList());
        String actor = Orchestrator.ACTOR.orElse("system");
        // One record per memory, appended concurrently so that the audit log's group commit takes them in few fsyncs.
        try (var appends = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor()) {
            List<java.util.concurrent.Future<?>> pending = new java.util.ArrayList<>();
            for (MemoryDoc doc : fresh)
                pending.add(appends.submit(() -> audit.append(AuditEvent.of(tenant, actor, "memory.store", "memory:" + doc.id(),
                        Map.of("kind", doc.kind().wire(), "text_sha256", Hashes.sha256(doc.text()))).withAgent(doc.agent()))));
            for (var f : pending) f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while auditing memory writes", e);
        }
        index.add(fresh, vectors);
        return ids;
    }

    @Override
    public long delete(Scope scope) {
        TenantIndex index = index(scope.tenant());
        var which = switch (scope) {
            case Scope.Tenant t -> new MatchAllDocsQuery();
            case Scope.Agent a -> TenantIndex.agentIs(a.agent());
            case Scope.TaskOf t -> TenantIndex.taskIs(t.task());
        };
        String target = switch (scope) {
            case Scope.Tenant t -> "tenant:" + t.tenant();
            case Scope.Agent a -> "agent:" + a.agent();
            case Scope.TaskOf t -> "task:" + t.task();
        };
        long n = index.count(which);
        audit.append(AuditEvent.of(scope.tenant(), Orchestrator.ACTOR.orElse("system"), "memory.delete", target,
                Map.of("memories", Long.toString(n))));
        // Tasks of the scope still waiting to be indexed would bring deleted memories back: they are forgotten too.
        pipeline.forget(scope);
        return n == 0 ? 0 : index.delete(which);
    }

    @Override
    public void feedback(Feedback f) {
        TenantIndex index = index(f.tenant());
        audit.append(AuditEvent.of(f.tenant(), Orchestrator.ACTOR.orElse("system"), "task.feedback", "task:" + f.task(),
                Map.of("score", Double.toString(f.score()), "text_sha256", Hashes.sha256(f.text()))).withAgent(f.agent()).withTask(f.task()));
        if (!f.text().isBlank()) {
            String text = "Feedback on task " + f.task() + " (score " + f.score() + "): " + f.text();
            MemoryDoc doc = new MemoryDoc(UUID.randomUUID().toString(), f.agent(), Optional.of(f.task()), Kind.FEEDBACK, text, List.of(),
                    Optional.empty(), clock.instant(), MemoryDoc.contentHash(text));
            index.add(List.of(doc), embeddings.embed(List.of(text)));
        }
        index.rate(f.task(), f.score());
    }

    @Override
    public Stats stats(String tenant) {
        TenantIndex index = index(tenant);
        IndexingPipeline.Counters c = pipeline.counters(tenant);
        return new Stats(tenant, index.count(new MatchAllDocsQuery()), index.countByAgent(), index.bytesOnDisk(), index.model(),
                embeddings.embedder().dimension(), c.queued().get(), c.indexed().get(), c.duplicates().get(), c.dropped().get());
    }

    /**
     * The raw HNSW step alone: ids of the {@code k} nearest memories to {@code vector} (cosine), searching
     * {@code candidates} graph neighbours, within {@code agents} when not empty. For benchmarks and diagnostics.
     */
    public List<String> nearest(String tenant, float[] vector, int k, int candidates, java.util.Set<String> agents) {
        Query q = new Query(tenant, "-", agents, java.util.Set.of(), Optional.empty(), java.util.Set.of(), Optional.empty(), Optional.empty(),
                Math.min(k, 100), Optional.empty(), Optional.empty(), Optional.empty());
        return index(tenant).nearest(vector, k, candidates, TenantIndex.filter(q));
    }

    public Embedder embedder() {
        return embeddings.embedder();
    }

    /** Ranking knobs, for measuring variants on the labelled set. */
    void settings(HybridSearch.Settings s) {
        this.settings = s;
    }

    HybridSearch.Settings settings() {
        return settings;
    }

    /** Where a tenant's index lives (tests look at its files). */
    Path folderOf(String tenant) {
        return index(tenant).folder();
    }

    @Override
    public void close() {
        pipeline.close();
        embeddings.close();
        indexes.values().forEach(TenantIndex::close);
        indexes.clear();
    }
}
