package dev.aegis.memory;

import dev.aegis.core.Memory;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.analysis.en.EnglishAnalyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.LongField;
import org.apache.lucene.document.NumericDocValuesField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.KnnVectorValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.NumericDocValues;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.TieredMergePolicy;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.MatchAllDocsQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.SearcherManager;
import org.apache.lucene.search.TermQuery;
import org.apache.lucene.store.FSDirectory;

/**
 * One tenant's memories in one Lucene index: BM25 text, an HNSW graph over unit vectors (dot product, which on
 * unit vectors is cosine) and the metadata, in the same documents.
 *
 * <p><b>Commit policy.</b> A write is acknowledged only after a Lucene commit that contains it returned (the
 * commit fsyncs the new segment files and then the segments file): concurrent writers share one commit (group
 * commit), so a crash never loses an acknowledged memory and never shows half a batch. Written memories are made
 * searchable before the write returns.
 *
 * <p><b>Vector space.</b> The commit's user data names the embedding model and dimension. Opened with another
 * embedder, the index is rebuilt beside the old one with every text re-embedded, then switched to by one atomic
 * rename of the {@code CURRENT} pointer: vectors of two models are never mixed, and a crash mid-way leaves the
 * old index in place.
 */
final class TenantIndex implements AutoCloseable {
    static final String VEC = "vec";
    static final String TEXT = "text";
    private static final String ID = "id", AGENT = "agent", TASK = "task", KIND = "kind", TAGS = "tags", SUCCESS = "success",
            CREATED = "created", RATING = "rating", HASH = "hash";
    /** Ratings are stored as integers: thousandths of the score in [-1, 1]; {@link #UNRATED} until feedback comes. */
    private static final double RATING_SCALE = 1000;
    /** Every document has the field from the start: Lucene updates doc values only of a field the index knows. */
    private static final long UNRATED = Long.MIN_VALUE;

    final Analyzer analyzer = new EnglishAnalyzer();
    private final Path home;
    private final Embedder embedder;
    private final FSDirectory dir;
    private final IndexWriter writer;
    private final SearcherManager searchers;
    private final Object commitLock = new Object();
    private volatile long committed = -1;

    private TenantIndex(Path home, Path current, Embedder embedder) throws IOException {
        this.home = home;
        this.embedder = embedder;
        this.dir = FSDirectory.open(current);
        this.writer = new IndexWriter(dir, config(analyzer));
        this.searchers = new SearcherManager(writer, new org.apache.lucene.search.SearcherFactory() {
            @Override
            public IndexSearcher newSearcher(org.apache.lucene.index.IndexReader reader, org.apache.lucene.index.IndexReader previous) {
                return new SegmentParallel(reader);
            }
        });
    }

    /** Searches across cores, one task per segment (any index has several); callers run one slice themselves. */
    private static final java.util.concurrent.Executor SEARCH = java.util.concurrent.Executors.newFixedThreadPool(
            Math.max(1, Runtime.getRuntime().availableProcessors() - 1), Thread.ofPlatform().daemon().name("memory-search-", 0).factory());

    /**
     * An index searcher that gives each segment its own slice: Lucene's default puts up to 250,000 documents in one
     * slice, so an index of this size would be searched on one core.
     */
    private static final class SegmentParallel extends IndexSearcher {
        SegmentParallel(org.apache.lucene.index.IndexReader reader) {
            super(reader, SEARCH);
        }

        @Override
        protected LeafSlice[] slices(List<org.apache.lucene.index.LeafReaderContext> leaves) {
            return slices(leaves, Integer.MAX_VALUE, 1, false);
        }
    }

    /**
     * Opens (or creates) the index of one tenant in {@code home}, re-embedding it first when it was built with
     * another model. {@code progress} hears about a rebuild.
     */
    static TenantIndex open(Path home, Embedder embedder, Consumer<String> progress) {
        try {
            Files.createDirectories(home);
            Path pointer = home.resolve("CURRENT");
            String name = Files.exists(pointer) ? Files.readString(pointer).strip() : "v1";
            Path current = home.resolve(name);
            sweep(home, name);
            boolean exists;
            try (FSDirectory d = FSDirectory.open(current)) {
                exists = DirectoryReader.indexExists(d);
            }
            if (exists) {
                Map<String, String> meta = meta(current);
                String model = meta.getOrDefault("model", "");
                if (!model.equals(embedder.id()) || !meta.getOrDefault("dimension", "").equals(Integer.toString(embedder.dimension()))) {
                    String next = "v" + (Integer.parseInt(name.substring(1)) + 1);
                    progress.accept("memory index " + home.getFileName() + " was embedded with " + model + "; re-embedding with "
                            + embedder.id() + "...");
                    rebuild(current, home.resolve(next), embedder, progress);
                    Path tmp = home.resolve("CURRENT.tmp");
                    Files.writeString(tmp, next);
                    Files.move(tmp, pointer, StandardCopyOption.ATOMIC_MOVE);
                    sweep(home, next);
                    current = home.resolve(next);
                }
            } else if (!Files.exists(pointer)) {
                Files.writeString(home.resolve("CURRENT.tmp"), name);
                Files.move(home.resolve("CURRENT.tmp"), pointer, StandardCopyOption.ATOMIC_MOVE);
            }
            TenantIndex index = new TenantIndex(home, current, embedder);
            index.commit(); // an empty index gets its model recorded at once
            return index;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open the memory index in " + home + ": " + e.getMessage(), e);
        }
    }

    private static IndexWriterConfig config(Analyzer analyzer) {
        IndexWriterConfig c = new IndexWriterConfig(analyzer);
        TieredMergePolicy merges = new TieredMergePolicy();
        merges.setForceMergeDeletesPctAllowed(0); // a delete followed by forceMergeDeletes rewrites every segment it touched
        c.setMergePolicy(merges);
        c.setRAMBufferSizeMB(64);
        return c;
    }

    private static Map<String, String> meta(Path current) throws IOException {
        try (FSDirectory d = FSDirectory.open(current); DirectoryReader r = DirectoryReader.open(d)) {
            return r.getIndexCommit().getUserData();
        }
    }

    /** Folders of finished or abandoned rebuilds: anything but the current index goes. */
    private static void sweep(Path home, String keep) throws IOException {
        try (Stream<Path> all = Files.list(home)) {
            for (Path p : all.filter(p -> Files.isDirectory(p) && !p.getFileName().toString().equals(keep)).toList())
                try (Stream<Path> walk = Files.walk(p)) {
                    for (Path f : walk.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(f);
                }
        }
    }

    private static void rebuild(Path from, Path to, Embedder embedder, Consumer<String> progress) throws IOException {
        try (FSDirectory src = FSDirectory.open(from); DirectoryReader reader = DirectoryReader.open(src);
             TenantIndex target = new TenantIndex(to.getParent(), to, embedder)) {
            int total = reader.numDocs(), done = 0;
            List<MemoryDoc> batch = new ArrayList<>();
            List<Optional<Double>> ratings = new ArrayList<>();
            for (LeafReaderContext leaf : reader.leaves()) {
                StoredFields stored = leaf.reader().storedFields();
                NumericDocValues rating = leaf.reader().getNumericDocValues(RATING);
                var live = leaf.reader().getLiveDocs();
                for (int doc = 0; doc < leaf.reader().maxDoc(); doc++) {
                    if (live != null && !live.get(doc)) continue;
                    batch.add(read(stored.document(doc)));
                    ratings.add(rating(rating, doc));
                    if (batch.size() == 64) {
                        done += target.copy(batch, ratings);
                        progress.accept("re-embedded " + done + " of " + total + " memories");
                    }
                }
            }
            target.copy(batch, ratings);
            target.commit();
        }
    }

    private int copy(List<MemoryDoc> batch, List<Optional<Double>> ratings) throws IOException {
        List<float[]> vectors = embedder.embed(batch.stream().map(MemoryDoc::text).toList());
        for (int i = 0; i < batch.size(); i++) {
            Document d = document(batch.get(i), vectors.get(i));
            ratings.get(i).ifPresent(r -> {
                d.removeField(RATING);
                d.add(new NumericDocValuesField(RATING, Math.round(r * RATING_SCALE)));
            });
            writer.addDocument(d);
        }
        int n = batch.size();
        batch.clear();
        ratings.clear();
        return n;
    }

    String model() {
        return embedder.id();
    }

    Embedder embedder() {
        return embedder;
    }

    /** Adds embedded memories and returns once they are durable and searchable (see the commit policy). */
    void add(List<MemoryDoc> docs, List<float[]> vectors) {
        if (docs.isEmpty()) return;
        try {
            List<Document> all = new ArrayList<>();
            for (int i = 0; i < docs.size(); i++) all.add(document(docs.get(i), vectors.get(i)));
            durable(writer.addDocuments(all));
        } catch (IOException e) {
            throw new UncheckedIOException("memory index write failed: " + e.getMessage(), e);
        }
    }

    /** The id of the memory in {@code agent}'s namespace that holds this content, if any. */
    Optional<String> existing(String agent, String hash) {
        return withSearcher(s -> {
            var top = s.search(new TermQuery(new Term(HASH, agent + "\0" + hash)), 1).scoreDocs;
            return top.length == 0 ? Optional.<String>empty()
                    : Optional.of(s.storedFields().document(top[0].doc, java.util.Set.of(ID)).get(ID));
        });
    }

    long delete(Query which) {
        try {
            refresh();
            long n = count(which);
            if (n == 0) return 0;
            if (which instanceof MatchAllDocsQuery) writer.deleteAll();
            else writer.deleteDocuments(which);
            // Gone from disk too, not only hidden: segments holding deleted memories are rewritten without them.
            writer.forceMergeDeletes(true);
            durable(Long.MAX_VALUE);
            return n;
        } catch (IOException e) {
            throw new UncheckedIOException("memory delete failed: " + e.getMessage(), e);
        }
    }

    /** Sets the feedback rating of every memory of {@code task}; returns once durable. */
    void rate(String task, double score) {
        try {
            durable(writer.updateNumericDocValue(new Term(TASK, task), RATING, Math.round(score * RATING_SCALE)));
        } catch (IOException e) {
            throw new UncheckedIOException("memory rating failed: " + e.getMessage(), e);
        }
    }

    /** Group commit: the first writer in commits for everyone who added before it. */
    private void durable(long seq) throws IOException {
        if (committed >= seq) return;
        synchronized (commitLock) {
            if (committed < seq) commit();
        }
        searchers.maybeRefreshBlocking();
    }

    private void commit() throws IOException {
        synchronized (commitLock) {
            writer.setLiveCommitData(Map.of("model", embedder.id(), "dimension", Integer.toString(embedder.dimension())).entrySet());
            long seq = writer.commit();
            committed = Math.max(committed, seq);
        }
    }

    void refresh() throws IOException {
        searchers.maybeRefreshBlocking();
    }

    /** Runs {@code use} on a current searcher; the searcher is released afterwards. */
    <T> T withSearcher(SearcherUse<T> use) {
        try {
            IndexSearcher s = searchers.acquire();
            try {
                return use.apply(s);
            } finally {
                searchers.release(s);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("memory search failed: " + e.getMessage(), e);
        }
    }

    interface SearcherUse<T> {
        T apply(IndexSearcher searcher) throws IOException;
    }

    List<String> nearest(float[] vector, int k, int candidates, Query filter) {
        return withSearcher(s -> {
            List<String> ids = new ArrayList<>();
            var top = s.search(knn(vector, Math.max(k, candidates), filter), k).scoreDocs;
            for (var sd : top) ids.add(s.storedFields().document(sd.doc, java.util.Set.of(ID)).get(ID));
            return ids;
        });
    }

    long count(Query q) {
        return withSearcher(s -> (long) s.count(q));
    }

    Map<String, Long> countByAgent() {
        return withSearcher(s -> {
            Map<String, Long> by = new HashMap<>();
            for (LeafReaderContext leaf : s.getIndexReader().leaves()) {
                StoredFields stored = leaf.reader().storedFields();
                var live = leaf.reader().getLiveDocs();
                for (int doc = 0; doc < leaf.reader().maxDoc(); doc++)
                    if (live == null || live.get(doc)) by.merge(stored.document(doc, java.util.Set.of(AGENT)).get(AGENT), 1L, Long::sum);
            }
            return by;
        });
    }

    long bytesOnDisk() {
        try (Stream<Path> files = Files.list(dir.getDirectory())) {
            long sum = 0;
            for (Path f : files.toList()) sum += Files.size(f);
            return sum;
        } catch (IOException e) {
            return -1;
        }
    }

    Path folder() {
        return dir.getDirectory();
    }

    /** A stored memory, its vector and its rating, for ranking. */
    record Stored(MemoryDoc doc, float[] vector, Optional<Double> rating) {}

    static Stored load(IndexSearcher s, int globalDoc) throws IOException {
        List<LeafReaderContext> leaves = s.getIndexReader().leaves();
        LeafReaderContext leaf = leaves.get(org.apache.lucene.index.ReaderUtil.subIndex(globalDoc, leaves));
        int doc = globalDoc - leaf.docBase;
        MemoryDoc m = read(leaf.reader().storedFields().document(doc));
        float[] vector = null;
        FloatVectorValues values = leaf.reader().getFloatVectorValues(VEC);
        if (values != null) {
            KnnVectorValues.DocIndexIterator it = values.iterator();
            if (it.advance(doc) == doc) vector = values.vectorValue(it.index()).clone();
        }
        return new Stored(m, vector, rating(leaf.reader().getNumericDocValues(RATING), doc));
    }

    private static Optional<Double> rating(NumericDocValues values, int doc) throws IOException {
        if (values == null || !values.advanceExact(doc) || values.longValue() == UNRATED) return Optional.empty();
        return Optional.of(values.longValue() / RATING_SCALE);
    }

    private Document document(MemoryDoc m, float[] vector) {
        if (vector.length != embedder.dimension())
            throw new IllegalStateException("vector of " + vector.length + " dimensions for an index of " + embedder.dimension());
        Document d = new Document();
        d.add(new StringField(ID, m.id(), Field.Store.YES));
        d.add(new StringField(AGENT, m.agent(), Field.Store.YES));
        m.task().ifPresent(t -> d.add(new StringField(TASK, t, Field.Store.YES)));
        d.add(new StringField(KIND, m.kind().wire(), Field.Store.YES));
        for (String tag : m.tags()) d.add(new StringField(TAGS, tag, Field.Store.YES));
        m.success().ifPresent(ok -> d.add(new StringField(SUCCESS, ok.toString(), Field.Store.YES)));
        d.add(new LongField(CREATED, m.createdAt().toEpochMilli(), Field.Store.YES));
        d.add(new StringField(HASH, m.agent() + "\0" + m.hash(), Field.Store.NO));
        d.add(new StoredField(HASH, m.hash()));
        d.add(new TextField(TEXT, m.text(), Field.Store.YES));
        d.add(new KnnFloatVectorField(VEC, vector, VectorSimilarityFunction.DOT_PRODUCT));
        d.add(new NumericDocValuesField(RATING, UNRATED));
        return d;
    }

    private static MemoryDoc read(Document d) {
        return new MemoryDoc(d.get(ID), d.get(AGENT), Optional.ofNullable(d.get(TASK)), Memory.Kind.parse("kind", d.get(KIND)),
                d.get(TEXT), List.of(d.getValues(TAGS)), Optional.ofNullable(d.get(SUCCESS)).map(Boolean::valueOf),
                Instant.ofEpochMilli(d.getField(CREATED).numericValue().longValue()), d.get(HASH));
    }

    // ---- filters, for HybridSearch and deletion ----

    static Query agentIs(String agent) {
        return new TermQuery(new Term(AGENT, agent));
    }

    static Query taskIs(String task) {
        return new TermQuery(new Term(TASK, task));
    }

    static Query filter(Memory.Query q) {
        var b = new org.apache.lucene.search.BooleanQuery.Builder();
        if (!q.agents().isEmpty()) b.add(new org.apache.lucene.search.TermInSetQuery(AGENT,
                q.agents().stream().map(org.apache.lucene.util.BytesRef::new).toList()), org.apache.lucene.search.BooleanClause.Occur.FILTER);
        if (!q.kinds().isEmpty()) b.add(new org.apache.lucene.search.TermInSetQuery(KIND,
                q.kinds().stream().map(k -> new org.apache.lucene.util.BytesRef(k.wire())).toList()), org.apache.lucene.search.BooleanClause.Occur.FILTER);
        for (String tag : q.tags()) b.add(new TermQuery(new Term(TAGS, tag)), org.apache.lucene.search.BooleanClause.Occur.FILTER);
        q.task().ifPresent(t -> b.add(taskIs(t), org.apache.lucene.search.BooleanClause.Occur.FILTER));
        q.success().ifPresent(ok -> b.add(new TermQuery(new Term(SUCCESS, ok.toString())), org.apache.lucene.search.BooleanClause.Occur.FILTER));
        q.since().ifPresent(t -> b.add(LongField.newRangeQuery(CREATED, t.toEpochMilli(), Long.MAX_VALUE),
                org.apache.lucene.search.BooleanClause.Occur.FILTER));
        var built = b.build();
        return built.clauses().isEmpty() ? new MatchAllDocsQuery() : built;
    }

    /**
     * A kNN search under {@code filter}, or unfiltered when the filter keeps every memory (a filtered kNN search first
     * collects the documents its filter accepts).
     */
    static org.apache.lucene.search.KnnFloatVectorQuery knn(float[] vector, int k, Query filter) {
        return new org.apache.lucene.search.KnnFloatVectorQuery(VEC, vector, k, filter instanceof MatchAllDocsQuery ? null : filter);
    }

    @Override
    public void close() {
        try {
            searchers.close();
            writer.close(); // commits what is pending
            dir.close();
        } catch (IOException e) {
            throw new UncheckedIOException("closing the memory index failed: " + e.getMessage(), e);
        }
    }
}
