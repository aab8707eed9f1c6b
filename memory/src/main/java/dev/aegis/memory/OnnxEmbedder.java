package dev.aegis.memory;

import dev.langchain4j.data.embedding.Embedding;
import dev.langchain4j.data.segment.TextSegment;
import dev.langchain4j.model.embedding.EmbeddingModel;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * An embedding model that runs in this process on ONNX Runtime; the model file ships inside a Maven artifact, so
 * nothing is downloaded at run time. Loading takes a few seconds and a few hundred MB, so it happens on first use,
 * not when the server starts.
 */
public final class OnnxEmbedder implements Embedder {
    /** The models on the class path; {@link #DEFAULT} retrieved best on our labelled set (see RetrievalQualityTest). */
    public enum Model {
        ALL_MINILM_L6_V2("all-minilm-l6-v2", ""),
        BGE_SMALL_EN_V15("bge-small-en-v1.5", "Represent this sentence for searching relevant passages: ");

        final String id;
        /** bge is trained to embed queries with this instruction and passages without it. */
        final String queryPrefix;

        Model(String id, String queryPrefix) {
            this.id = id;
            this.queryPrefix = queryPrefix;
        }

        public String id() {
            return id;
        }

        public static Model parse(String raw) {
            for (Model m : values()) if (m.id.equals(raw.toLowerCase(Locale.ROOT))) return m;
            throw new IllegalArgumentException("embedding model \"" + raw + "\" is not built in; use all-minilm-l6-v2 or bge-small-en-v1.5");
        }
    }

    public static final Model DEFAULT = Model.BGE_SMALL_EN_V15;

    private final Model model;
    private final Consumer<String> progress;
    private volatile EmbeddingModel loaded;

    /** @param progress told once, before the model loads ({@code "loading embedding model ..."}) */
    public OnnxEmbedder(Model model, Consumer<String> progress) {
        this.model = model;
        this.progress = progress;
        String cls = switch (model) {
            case ALL_MINILM_L6_V2 -> "dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel";
            case BGE_SMALL_EN_V15 -> "dev.langchain4j.model.embedding.onnx.bgesmallenv15.BgeSmallEnV15EmbeddingModel";
        };
        try {
            Class.forName(cls, false, OnnxEmbedder.class.getClassLoader()); // present, not loaded: that takes seconds
        } catch (ClassNotFoundException e) {
            throw new IllegalArgumentException("embedding model " + model.id + " is not on the class path; add its Maven artifact "
                    + "(dev.langchain4j:langchain4j-embeddings-*) or use the built-in " + DEFAULT.id);
        }
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
        EmbeddingModel m = loaded;
        if (m != null) return m;
        synchronized (this) {
            if (loaded == null) {
                progress.accept("loading embedding model " + model.id + " (first use; a few seconds)...");
                // Segments of one call run one after another here: the EmbeddingService spreads batches over its
                // own bounded pool, and a second pool inside would only oversubscribe the cores.
                java.util.concurrent.Executor inline = Runnable::run;
                loaded = switch (model) {
                    case ALL_MINILM_L6_V2 -> new dev.langchain4j.model.embedding.onnx.allminilml6v2.AllMiniLmL6V2EmbeddingModel(inline);
                    case BGE_SMALL_EN_V15 -> new dev.langchain4j.model.embedding.onnx.bgesmallenv15.BgeSmallEnV15EmbeddingModel(inline);
                };
            }
            return loaded;
        }
    }
}
