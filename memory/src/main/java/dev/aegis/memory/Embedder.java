package dev.aegis.memory;

import java.util.List;

/**
 * Turns texts into unit-length vectors of one fixed dimension. {@link #id()} names the vector space: two
 * embedders with the same id must give the same vectors, so an index records it and re-embeds when it changes.
 */
public interface Embedder {
    /** e.g. {@code all-minilm-l6-v2} or {@code openai:text-embedding-3-small@1536}. */
    String id();

    int dimension();

    /** One vector per text, in order, each of length {@link #dimension()} and L2-normalised. */
    List<float[]> embed(List<String> texts);

    /** A query may need a different form than a stored passage (bge's retrieval instruction). */
    default float[] embedQuery(String text) {
        return embed(List.of(text)).getFirst();
    }

    static float[] normalize(float[] v) {
        double sum = 0;
        for (float x : v) sum += x * x;
        if (sum == 0) return v;
        float inv = (float) (1 / Math.sqrt(sum));
        for (int i = 0; i < v.length; i++) v[i] *= inv;
        return v;
    }
}
