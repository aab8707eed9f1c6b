package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import picocli.CommandLine.Option;

/** Connection options shared by client commands, and the HTTP calls they make. */
final class Client {
    static final ObjectMapper JSON = new ObjectMapper();

    @Option(names = "--url", description = "server URL (default $AEGIS_URL, else http://127.0.0.1:7070)")
    String url;

    @Option(names = "--key", description = "API key (default $AEGIS_API_KEY)")
    String key;

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    HttpClient http() {
        return http;
    }

    String base() {
        String u = url != null ? url : System.getenv().getOrDefault("AEGIS_URL", "http://127.0.0.1:7070");
        return u.endsWith("/") ? u.substring(0, u.length() - 1) : u;
    }

    HttpRequest.Builder request(String path) {
        String k = key != null ? key : System.getenv("AEGIS_API_KEY");
        if (k == null || k.isBlank())
            throw new IllegalArgumentException("no API key: pass --key or set AEGIS_API_KEY (the server printed one at first start)");
        return HttpRequest.newBuilder(URI.create(base() + path)).header("Authorization", "Bearer " + k)
                .timeout(Duration.ofMinutes(6));
    }

    JsonNode get(String path) throws IOException, InterruptedException {
        return send(request(path).GET().build());
    }

    JsonNode post(String path, Object body) throws IOException, InterruptedException {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(JSON.writeValueAsString(body))).build());
    }

    JsonNode send(HttpRequest req) throws IOException, InterruptedException {
        HttpResponse<String> resp;
        try {
            resp = http.send(req, HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException e) {
            throw new IllegalStateException("cannot reach " + base() + ": is `aegis server` running? (set --url or AEGIS_URL)");
        }
        JsonNode body = resp.body().isBlank() ? JSON.createObjectNode() : JSON.readTree(resp.body());
        if (resp.statusCode() >= 400) {
            JsonNode err = body.path("error");
            throw new IllegalStateException(err.path("message").asText(resp.body()) + " (HTTP " + resp.statusCode() + ")");
        }
        return body;
    }

    HttpResponse<InputStream> stream(String path) throws IOException, InterruptedException {
        return http.send(request(path).header("Accept", "text/event-stream").GET().build(), HttpResponse.BodyHandlers.ofInputStream());
    }

    /** A name as one URL path segment. */
    static String segment(String name) {
        return java.net.URLEncoder.encode(name, java.nio.charset.StandardCharsets.UTF_8).replace("+", "%20");
    }

    static String pretty(JsonNode node) throws IOException {
        return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(node);
    }
}
