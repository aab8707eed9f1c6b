package dev.aegis.memory;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import dev.langchain4j.model.embedding.onnx.AbstractInProcessEmbeddingModel;
import dev.langchain4j.model.embedding.onnx.OnnxBertBiEncoder;
import dev.langchain4j.model.embedding.onnx.PoolingMode;
import java.io.IOException;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * An embedding model that runs in this process on ONNX Runtime; the model file ships inside a Maven artifact, so
 * nothing is downloaded at run time. Loading takes a few seconds and a few hundred MB, so it happens on first use,
 * not when the server starts.
 */
public final class OnnxEmbedder implements Embedder {
    private static final String BGE_QUERY = "Represent this sentence for searching relevant passages: ";

    /** The models on the class path; {@link #DEFAULT} retrieved best on our labelled set (see RetrievalQualityTest). */
    public enum Model {
        ALL_MINILM_L6_V2("all-minilm-l6-v2", "", PoolingMode.MEAN),
        ALL_MINILM_L6_V2_Q("all-minilm-l6-v2-q", "", PoolingMode.MEAN),
        BGE_SMALL_EN_V15("bge-small-en-v1.5", BGE_QUERY, PoolingMode.CLS),
        BGE_SMALL_EN_V15_Q("bge-small-en-v1.5-q", BGE_QUERY, PoolingMode.CLS);

        final String id;
        /** bge is trained to embed queries with this instruction and passages without it. */
        final String queryPrefix;
        final PoolingMode pooling;

        Model(String id, String queryPrefix, PoolingMode pooling) {
            this.id = id;
            this.queryPrefix = queryPrefix;
            this.pooling = pooling;
        }

        /** The model file, in its Maven artifact ({@code dev.langchain4j:langchain4j-embeddings-<id>}). */
        String file() {
            return id + ".onnx";
        }

        public String id() {
            return id;
        }

        public static Model parse(String raw) {
            for (Model m : values()) if (m.id.equals(raw.toLowerCase(Locale.ROOT))) return m;
            throw new IllegalArgumentException("embedding model \"" + raw + "\" is not built in; use one of "
                    + java.util.Arrays.stream(values()).map(Model::id).toList());
        }
    }

    public static final Model DEFAULT = Model.BGE_SMALL_EN_V15;

    /**
     * Loaded models, one per JVM: a model is immutable and thread-safe, and loading one costs seconds and ~150 MB, so
     * every embedder of the same model in this process (nodes in tests, benchmarks) shares it.
     */
    private static final java.util.Map<Model, EmbeddingModel> LOADED = new java.util.concurrent.ConcurrentHashMap<>();

    private final Model model;
    private final Consumer<String> progress;

    /** @param progress told once, before the model loads ({@code "loading embedding model ..."}) */
    public OnnxEmbedder(Model model, Consumer<String> progress) {
        this.model = model;
        this.progress = progress;
        if (OnnxEmbedder.class.getClassLoader().getResource(model.file()) == null)
            throw new IllegalArgumentException("embedding model " + model.id + " is not on the class path; add its Maven artifact "
                    + "(dev.langchain4j:langchain4j-embeddings-*) or use the built-in " + DEFAULT.id);
    }

    @Override
    public String id() {
        return model.id;
    }

    @Override
    public int dimension() {
        return 384;
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        if (texts.isEmpty()) return List.of();
        List<Embedding> out = model().embedAll(texts.stream().map(TextSegment::from).toList()).content();
        return out.stream().map(e -> Embedder.normalize(e.vector())).toList();
    }

    @Override
    public float[] embedQuery(String text) {
        return Embedder.normalize(model().embed(model.queryPrefix + text).content().vector());
    }

    /** Loads the model now (a few seconds); later calls return at once. */
    public OnnxEmbedder load() {
        model();
        return this;
    }

    private EmbeddingModel model() {
        EmbeddingModel m = LOADED.get(model);
        if (m != null) return m;
        synchronized (LOADED) {
            return LOADED.computeIfAbsent(model, k -> {
                progress.accept("loading embedding model " + model.id + " (first use; a few seconds)...");
                long t0 = System.nanoTime();
                try {
                    EmbeddingModel loaded = session(model);
                    progress.accept(String.format(Locale.ROOT, "embedding model %s loaded in %.1f s", model.id, (System.nanoTime() - t0) / 1e9));
                    return loaded;
                } catch (IOException | OrtException e) {
                    throw new IllegalStateException("cannot load embedding model " + model.id + ": " + e, e);
                }
            });
        }
    }

    /**
     * The model on an ONNX Runtime session of one thread that does not spin while it waits: the EmbeddingService runs
     * one embedding per core already, and the runtime's default (a spinning thread per core in every session) only
     * fights those threads and the sandboxes for the cores. Measured on 2 cores, two embedding threads: 1.35x the
     * throughput on a quiet machine, 2-4x under load.
     */
    private static EmbeddingModel session(Model model) throws IOException, OrtException {
        ClassLoader loader = OnnxEmbedder.class.getClassLoader();
        byte[] onnx;
        try (InputStream in = loader.getResourceAsStream(model.file())) {
            onnx = in.readAllBytes();
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
             InputStream tokenizer = loader.getResourceAsStream(model.id + "-tokenizer.json")) {
            options.setIntraOpNumThreads(1);
            options.setInterOpNumThreads(1);
            options.addConfigEntry("session.intra_op.allow_spinning", "0");
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            OnnxBertBiEncoder encoder = new OnnxBertBiEncoder(env, env.createSession(onnx, options), tokenizer, model.pooling);
            return new Loaded(encoder);
        }
    }

    /** A loaded model; segments of one call run one after another, on the caller's thread. */
    private static final class Loaded extends AbstractInProcessEmbeddingModel {
        private final OnnxBertBiEncoder encoder;

        Loaded(OnnxBertBiEncoder encoder) {
            super(Runnable::run);
            this.encoder = encoder;
        }

        @Override
        protected OnnxBertBiEncoder model() {
            return encoder;
        }

        @Override
        protected Integer knownDimension() {
            return 384;
        }
    }

    /** Whether the model is loaded in this process already (then the first embedding costs milliseconds, not seconds). */
    public boolean loaded() {
        return LOADED.containsKey(model);
    }
}
