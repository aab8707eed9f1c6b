package dev.aegis.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.aegis.core.Memory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The OpenAI-compatible endpoint client against a real HTTP server on loopback that speaks {@code /v1/embeddings}
 * and embeds with the MiniLM model; and the index re-embedding everything when the model changes.
 */
class HttpEmbedderTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    @TempDir
    Path dir;
    HttpServer server;
    final AtomicReference<String> lastAuth = new AtomicReference<>();
    final List<Integer> batchSizes = new ArrayList<>();

    @BeforeEach
    void serve() throws Exception {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/embeddings", ex -> {
            lastAuth.set(ex.getRequestHeaders().getFirst("Authorization"));
            JsonNode req = JSON.readTree(ex.getRequestBody());
            byte[] out;
            int status = 200;
            if (!req.path("model").asText().equals("all-minilm-l6-v2")) {
                status = 404;
                out = "{\"error\":{\"message\":\"model not found\"}}".getBytes(StandardCharsets.UTF_8);
            } else {
                List<String> input = new ArrayList<>();
                req.path("input").forEach(n -> input.add(n.asText()));
                synchronized (batchSizes) {
                    batchSizes.add(input.size());
                }
                List<float[]> vs = Fixtures.MINILM.embed(input);
                ObjectNode body = JSON.createObjectNode().put("object", "list").put("model", "all-minilm-l6-v2");
                ArrayNode data = body.putArray("data");
                for (int i = vs.size() - 1; i >= 0; i--) { // out of order on purpose: clients must use "index"
                    ArrayNode e = data.addObject().put("object", "embedding").put("index", i).putArray("embedding");
                    for (float f : vs.get(i)) e.add(f * 3); // not unit length: the client normalises
                }
                out = body.toString().getBytes(StandardCharsets.UTF_8);
            }
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(status, out.length);
            ex.getResponseBody().write(out);
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private String base() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Test
    void embedsThroughTheEndpointLikeTheModelItself() {
        HttpEmbedder http = new HttpEmbedder(base(), "all-minilm-l6-v2", 384, Optional.of("sk-test"));
        List<float[]> remote = http.embed(List.of("disk full on db-1", "the cat sat on the mat"));
        List<float[]> local = Fixtures.MINILM.embed(List.of("disk full on db-1", "the cat sat on the mat"));
        assertThat(HybridSearch.dot(remote.get(0), local.get(0))).isGreaterThan(0.999);
        assertThat(HybridSearch.dot(remote.get(1), local.get(1))).isGreaterThan(0.999);
        assertThat(lastAuth.get()).isEqualTo("Bearer sk-test");
        assertThat(http.id()).isEqualTo("http:all-minilm-l6-v2");

        assertThatThrownBy(() -> new HttpEmbedder(base(), "other-model", 384, Optional.empty()).embed(List.of("x")))
                .hasMessageContaining("answered 404").hasMessageContaining("model not found");
        assertThatThrownBy(() -> new HttpEmbedder(base(), "all-minilm-l6-v2", 1536, Optional.empty()).embed(List.of("x")))
                .hasMessageContaining("384 dimensions; expected").hasMessageContaining("of 1536");
        assertThatThrownBy(() -> new HttpEmbedder("ftp://x", "m", 3, Optional.empty())).hasMessageContaining("must be an http(s) URL");
        assertThatThrownBy(() -> new HttpEmbedder("http://127.0.0.1:1", "m", 3, Optional.empty()).embed(List.of("x")))
                .hasMessageContaining("unreachable");
    }

    @Test
    void aModelChangeReEmbedsTheWholeIndexNeverMixingSpaces() {
        String id;
        try (Fixtures.Node node = Fixtures.cortex(dir, Fixtures.MINILM, java.time.Clock.systemUTC())) {
            id = node.cortex().store(new Memory.Note("acme", "ops", Optional.empty(), Memory.Kind.NOTE,
                    "Certificate renewal failed because port 80 is closed on the load balancer.", List.of("tls"), Optional.of(false)));
            node.cortex().store(new Memory.Note("acme", "ops", Optional.empty(), Memory.Kind.NOTE, "Unrelated: coffee machine on floor 3 is fixed.",
                    List.of(), Optional.empty()));
            assertThat(node.cortex().stats("acme").model()).isEqualTo("all-minilm-l6-v2");
        }
        List<String> progress = new ArrayList<>();
        HttpEmbedder http = new HttpEmbedder(base(), "all-minilm-l6-v2", 384, Optional.empty());
        dev.aegis.audit.FileAuditLog audit = dev.aegis.audit.FileAuditLog.open(dir.resolve("audit"));
        try (Cortex cortex = new Cortex(Cortex.Config.defaults(dir.resolve("memory"), http), EmbeddingService.defaults(http), audit,
                java.time.Clock.systemUTC(), t -> List.of(), progress::add)) {
            Memory.Stats s = cortex.stats("acme");
            assertThat(s.model()).isEqualTo("http:all-minilm-l6-v2");
            assertThat(s.memories()).isEqualTo(2);
            assertThat(progress).anyMatch(p -> p.contains("re-embedding with http:all-minilm-l6-v2"));
            synchronized (batchSizes) {
                assertThat(batchSizes.stream().mapToInt(Integer::intValue).sum()).as("every memory went through the new model").isGreaterThanOrEqualTo(2);
            }
            Memory.Hit hit = cortex.search(Memory.Query.of("acme", "why did the TLS cert not renew", 1)).hits().getFirst();
            assertThat(hit.id()).isEqualTo(id);
            assertThat(hit.tags()).containsExactly("tls");
            assertThat(hit.success()).contains(false);
        } finally {
            audit.close();
        }
        // The old vectors are gone: only the new index folder remains beside the pointer.
        assertThat(dir.resolve("memory/acme/v1")).doesNotExist();
        assertThat(dir.resolve("memory/acme/v2")).isDirectory();
    }
}
