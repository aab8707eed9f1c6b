package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

/** A tiny test client: real HTTP against a running node. */
final class Http {
    static final ObjectMapper JSON = new ObjectMapper();
    private final HttpClient client = HttpClient.newHttpClient();
    private final String base;
    private final String key;

    Http(String base, String key) {
        this.base = base;
        this.key = key;
    }

    record Response(int status, JsonNode body, HttpResponse<String> raw) {}

    Response get(String path) throws Exception {
        return send(builder(path).GET());
    }

    Response post(String path, Object body) throws Exception {
        String text = body instanceof String s ? s : JSON.writeValueAsString(body);
        return send(builder(path).header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(text)));
    }

    Response upload(String path, byte[] tgz) throws Exception {
        return send(builder(path).header("Content-Type", "application/gzip").POST(HttpRequest.BodyPublishers.ofByteArray(tgz)));
    }

    HttpRequest.Builder builder(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(60));
        return key == null ? b : b.header("Authorization", "Bearer " + key);
    }

    Response send(HttpRequest.Builder b) throws Exception {
        HttpResponse<String> r = client.send(b.build(), HttpResponse.BodyHandlers.ofString());
        boolean json = r.headers().firstValue("Content-Type").map(t -> t.contains("json")).orElse(true);
        JsonNode body = r.body().isBlank() ? JSON.createObjectNode()
                : json ? JSON.readTree(r.body()) : JSON.getNodeFactory().textNode(r.body());
        return new Response(r.statusCode(), body, r);
    }

    HttpClient client() {
        return client;
    }
}
