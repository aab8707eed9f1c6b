package dev.aegis.memory;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An OpenAI-compatible embedding endpoint ({@code POST {base}/v1/embeddings} with {@code {"model", "input": [...]}},
 * answering {@code {"data": [{"index", "embedding"}]}}): OpenAI itself, vLLM, Ollama, LocalAI, text-embeddings-inference.
 * The dimension is configured, not guessed, so an index can be checked against it before anything is embedded.
 */
public final class HttpEmbedder implements Embedder {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI endpoint;
    private final String model;
    private final int dimension;
    private final Optional<String> apiKey;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    /** @param base e.g. {@code http://127.0.0.1:8080} or {@code https://api.openai.com}; {@code /v1/embeddings} is appended */
    public HttpEmbedder(String base, String model, int dimension, Optional<String> apiKey) {
        URI uri = URI.create(base.replaceAll("/+$", "") + "/v1/embeddings");
        if (!"http".equals(uri.getScheme()) && !"https".equals(uri.getScheme()))
            throw new IllegalArgumentException("embedding endpoint \"" + base + "\" must be an http(s) URL");
        if (model.isBlank()) throw new IllegalArgumentException("embedding endpoint needs a model name");
        if (dimension < 1 || dimension > 8192) throw new IllegalArgumentException("embedding dimension " + dimension + " must be from 1 to 8192");
        this.endpoint = uri;
        this.model = model;
        this.dimension = dimension;
        this.apiKey = apiKey;
    }

    @Override
    public String id() {
        return "http:" + model;
    }

    @Override
    public int dimension() {
        return dimension;
    }

    @Override
    public List<float[]> embed(List<String> texts) {
        if (texts.isEmpty()) return List.of();
        ObjectNode body = JSON.createObjectNode().put("model", model);
        texts.forEach(body.putArray("input")::add);
        HttpRequest.Builder req = HttpRequest.newBuilder(endpoint).timeout(Duration.ofSeconds(60))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        apiKey.ifPresent(k -> req.header("Authorization", "Bearer " + k));
        HttpResponse<String> res;
        try {
            res = http.send(req.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("embedding endpoint " + endpoint + " is unreachable: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while embedding", e);
        }
        if (res.statusCode() != 200)
            throw new IllegalStateException("embedding endpoint " + endpoint + " answered " + res.statusCode() + ": "
                    + res.body().substring(0, Math.min(300, res.body().length())));
        try {
            JsonNode data = JSON.readTree(res.body()).path("data");
            float[][] out = new float[texts.size()][];
            for (JsonNode item : data) {
                int i = item.path("index").asInt(-1);
                JsonNode e = item.path("embedding");
                if (i < 0 || i >= out.length || e.size() != dimension)
                    throw new IllegalStateException("embedding endpoint " + endpoint + " sent index " + i + " with " + e.size()
                            + " dimensions; expected indexes 0.." + (out.length - 1) + " of " + dimension);
                float[] v = new float[dimension];
                for (int d = 0; d < dimension; d++) v[d] = (float) e.get(d).asDouble();
                out[i] = Embedder.normalize(v);
            }
            List<float[]> vectors = new ArrayList<>();
            for (int i = 0; i < out.length; i++) {
                if (out[i] == null) throw new IllegalStateException("embedding endpoint " + endpoint + " sent no vector for input " + i);
                vectors.add(out[i]);
            }
            return vectors;
        } catch (IOException e) {
            throw new IllegalStateException("embedding endpoint " + endpoint + " sent malformed JSON: " + e.getMessage(), e);
        }
    }
}
