package dev.aegis.cli;

import dev.aegis.memory.Embedder;
import dev.aegis.memory.HttpEmbedder;
import dev.aegis.memory.OnnxEmbedder;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The node's embedding model, from the environment: the built-in model by default ({@code AEGIS_EMBEDDING_MODEL}
 * picks another in-process model whose jar is on the class path), or an OpenAI-compatible endpoint when {@code AEGIS_EMBEDDING_URL} is set (with
 * {@code AEGIS_EMBEDDING_MODEL}, {@code AEGIS_EMBEDDING_DIMENSION} and optionally {@code AEGIS_EMBEDDING_API_KEY}).
 * Changing it re-embeds every tenant's memory when its index next opens.
 */
final class Embeddings {
    private Embeddings() {}

    static Embedder fromEnvironment(Map<String, String> env, Consumer<String> progress) {
        String url = env.getOrDefault("AEGIS_EMBEDDING_URL", "").strip();
        String model = env.getOrDefault("AEGIS_EMBEDDING_MODEL", "").strip();
        if (url.isEmpty())
            return new OnnxEmbedder(model.isEmpty() ? OnnxEmbedder.DEFAULT : OnnxEmbedder.Model.parse(model), progress);
        if (model.isEmpty()) throw new IllegalArgumentException("AEGIS_EMBEDDING_URL is set: AEGIS_EMBEDDING_MODEL must name the endpoint's model");
        String dim = env.getOrDefault("AEGIS_EMBEDDING_DIMENSION", "");
        int dimension;
        try {
            dimension = Integer.parseInt(dim.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("AEGIS_EMBEDDING_DIMENSION: \"" + dim + "\" must be the model's vector size, e.g. 1536");
        }
        return new HttpEmbedder(url, model, dimension, Optional.ofNullable(env.get("AEGIS_EMBEDDING_API_KEY")).filter(k -> !k.isBlank()));
    }
}
