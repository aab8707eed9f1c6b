package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** API keys: roles, expiry, immediate revocation, tenants kept apart. */
class KeysTest {
    @TempDir
    Path dir;

    /**
     * Every route of the OpenAPI document, called with another tenant's admin key on this tenant's resources:
     * nothing of tenant default may come back (only 401, 403, 404, or the caller's own empty views).
     */
    @Test
    void noRouteLetsOneTenantSeeOrTouchAnothers() throws Exception {
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()))) {
            Http platform = new Http(node.url(), node.firstAdminKey().orElseThrow());
            assertThat(platform.upload("/v1/agents", TarGz.pack(examples.resolve("summarizer"))).status()).isEqualTo(201);
            String task = platform.post("/v1/tasks", Map.of("agent", "summarizer", "wait", true,
                    "input", Map.of("text", "Secret words here. More secret words."))).body().path("id").asText();
            String platformKeyId = node.firstAdminKey().orElseThrow().substring(9, 21);
            assertThat(SecretsTest.put(platform, "PLATFORM_TOKEN", "platform-secret-value").status()).isEqualTo(201);
            String secretBefore = platform.get("/v1/secrets").body().toString();
            // The task is in tenant default's memory before anyone else asks for it.
            assertThat(node.memory().awaitIndexed(java.time.Duration.ofSeconds(120))).isTrue();
            assertThat(platform.get("/v1/memory/search?q=Secret+words").body().path("hits").toString()).contains("Secret words");
            long memoriesBefore = platform.get("/v1/memory/stats").body().path("memories").asLong();
            Http.Response provider = LlmTest.putProvider(platform, "{\"kind\": \"openai\", \"base_url\": "
                    + "\"http://127.0.0.1:9/platform-llm/v1\", \"key_secret\": \"PLATFORM_TOKEN\"}");
            assertThat(provider.status()).isEqualTo(201);
            assertThat(platform.post("/v1/tools/servers", "{\"name\": \"summarizer\", \"command\": [\"/bin/echo\", \"platform-tool\"]}")
                    .status()).isEqualTo(201);
            String toolsBefore = platform.get("/v1/tools/servers").body().toString();
            Http acme = new Http(node.url(), platform.post("/v1/keys", Map.of("tenant", "acme", "role", "admin")).body().path("key").asText());
            var doc = new Http(node.url(), null).get("/openapi.json").body();
            int calls = 0;
            for (var path : doc.path("paths").properties()) {
                if (!path.getKey().startsWith("/v1/")) continue; // /healthz, /openapi.json, /metrics hold no tenant data
                String p = path.getKey().replace("{id}", path.getKey().startsWith("/v1/keys") ? platformKeyId : task)
                        .replace("{name}", path.getKey().startsWith("/v1/secrets") ? "PLATFORM_TOKEN" : "summarizer").replace("{seq}", "1");
                if (p.equals("/v1/memory/search")) p += "?q=Secret+words";
                if (p.equals("/v1/memory")) p += "?all=true";
                for (var op : path.getValue().properties()) {
                    String method = op.getKey().toUpperCase();
                    var req = acme.builder(p);
                    req = switch (method) {
                        case "GET" -> req.GET();
                        case "DELETE" -> req.DELETE();
                        // a valid value: acme may make its own PLATFORM_TOKEN, and default's must not change
                        case "PUT" -> req.header("Content-Type", "application/json")
                                .PUT(java.net.http.HttpRequest.BodyPublishers.ofString("{\"value\": \"acme-value-1234\"}"));
                        default -> req.header("Content-Type", "application/json").POST(java.net.http.HttpRequest.BodyPublishers.ofString(
                                p.equals("/v1/tasks") ? "{\"agent\": \"summarizer\"}" : p.equals("/v1/keys") ? "{\"role\": \"admin\", \"tenant\": \"default\"}"
                                        // valid feedback, so that only the tenant can refuse it
                                        : p.endsWith("/feedback") ? "{\"score\": -1, \"text\": \"acme rates default's task\"}" : "{}"));
                    };
                    // The event stream is read to its end: with follow=false it sends what is stored, then closes.
                    if (p.equals("/v1/events")) req = acme.builder("/v1/events?after=0&follow=false&subject=aegis.%3E").GET();
                    Http.Response r = acme.send(req.header("Accept", p.endsWith("/stream") || p.equals("/v1/events")
                            ? "text/event-stream" : "application/json"));
                    calls++;
                    String body = r.raw().body();
                    assertThat(body).as(method + " " + p).doesNotContain("Secret words").doesNotContain("platform-secret").doesNotContain("platform-llm").doesNotContain("platform-tool").doesNotContain("\"agent\":\"summarizer\"")
                            .doesNotContain("\"name\":\"summarizer\"").doesNotContain("\"tenant\":\"default\"");
                    assertThat(r.status()).as(method + " " + p + " -> " + body).isIn(200, 201, 400, 401, 403, 404, 415);
                }
            }
            assertThat(calls).isGreaterThan(15);
            assertThat(platform.get("/v1/secrets").body().toString()).as("default's secrets untouched").isEqualTo(secretBefore);
            assertThat(platform.get("/v1/llm/provider").body().toString()).as("default's LLM provider untouched").isEqualTo(provider.body().toString());
            assertThat(acme.get("/v1/llm/provider").status()).isEqualTo(404);
            assertThat(platform.get("/v1/tools/servers").body().toString()).as("default's tool servers untouched").isEqualTo(toolsBefore);
            assertThat(acme.get("/v1/tools/servers").body().path("servers")).isEmpty();
            // /mcp's tools call the routes above as the caller: acme reaches none of default's task, memories or agents.
            for (String call : List.of("\"get_task\", \"arguments\": {\"id\": \"" + task + "\"}", "\"task_logs\", \"arguments\": {\"id\": \"" + task + "\"}",
                    "\"cancel_task\", \"arguments\": {\"id\": \"" + task + "\"}", "\"search_memory\", \"arguments\": {\"query\": \"Secret words\"}",
                    "\"list_agents\", \"arguments\": {}", "\"run_task\", \"arguments\": {\"agent\": \"summarizer\"}")) {
                Http.Response r = acme.post("/mcp", "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"tools/call\", \"params\": {\"name\": " + call + "}}");
                assertThat(r.status()).isEqualTo(200);
                JsonNode result = r.body().path("result");
                assertThat(result.toString()).as(call).doesNotContain("Secret words").doesNotContain("\"name\":\"summarizer\"")
                        .doesNotContain("\\\"name\\\":\\\"summarizer\\\"").doesNotContain("\"tenant\":\"default\"");
                if (!call.startsWith("\"search_memory") && !call.startsWith("\"list_agents"))
                    assertThat(result.path("structuredContent").path("error").path("code").asText()).as(call).isEqualTo("not_found");
            }
            // And the platform tenant's task and memories are untouched: acme could neither read nor delete them, nor rate the task.
            assertThat(platform.get("/v1/tasks/" + task).body().path("state").asText()).isEqualTo("succeeded");
            assertThat(platform.get("/v1/memory/search?q=Secret+words").body().path("hits").toString()).contains("Secret words");
            assertThat(platform.get("/v1/memory/stats").body().path("memories").asLong()).isEqualTo(memoriesBefore);
            var taskMemories = platform.get("/v1/memory/search?q=Secret+words&task=" + task).body().path("hits");
            assertThat(taskMemories).isNotEmpty().allSatisfy(h -> assertThat(h.has("rating")).as("rated by acme: " + h).isFalse());
            assertThat(platform.get("/v1/memory/search?q=acme+rates&kind=feedback").body().path("hits")).isEmpty();
            assertThat(acme.get("/v1/memory/search?q=Secret+words").body().path("hits")).isEmpty();
            assertThat(acme.get("/v1/memory/stats").body().path("by_agent")).isEmpty();
            assertThat(acme.post("/v1/tasks/" + task + "/feedback", Map.of("score", 1)).status()).isEqualTo(404);
            assertThat(acme.send(acme.builder("/v1/memory/tasks/" + task).DELETE()).status()).isEqualTo(404);
            assertThat(acme.send(acme.builder("/v1/memory/agents/summarizer").DELETE()).status()).isEqualTo(404);
            assertThat(node.audit().query(dev.aegis.core.AuditQuery.all(10_000).action("task.feedback"))).isEmpty();
        }
    }

    @Test
    void keysHaveRolesExpireAndRevokeAtOnce() throws Exception {
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()))) {
            Http platform = new Http(node.url(), node.firstAdminKey().orElseThrow());
            assertThat(platform.upload("/v1/agents", TarGz.pack(examples.resolve("summarizer"))).status()).isEqualTo(201);

            // A new tenant's first key comes from the platform admin; its secret is shown once.
            Http.Response made = platform.post("/v1/keys", Map.of("tenant", "acme", "role", "admin"));
            assertThat(made.status()).isEqualTo(201);
            String acmeKey = made.body().path("key").asText();
            assertThat(acmeKey).startsWith("aeg_live_" + made.body().path("id").asText() + "_");
            Http acme = new Http(node.url(), acmeKey);
            assertThat(acme.get("/v1/keys").body().path("keys").toString()).doesNotContain(acmeKey.substring(22));

            // Tenants are apart: acme sees none of default's agents or tasks, and may not manage default's keys.
            assertThat(acme.get("/v1/agents").body().path("agents")).isEmpty();
            assertThat(acme.get("/v1/agents/summarizer").status()).isEqualTo(404);
            String task = platform.post("/v1/tasks", Map.of("agent", "summarizer", "wait", true,
                    "input", Map.of("text", "One. Two."))).body().path("id").asText();
            assertThat(acme.get("/v1/tasks/" + task).status()).isEqualTo(404);
            assertThat(acme.get("/v1/tasks/" + task + "/logs").status()).isEqualTo(404);
            assertThat(acme.post("/v1/tasks/" + task + "/cancel", Map.of()).status()).isEqualTo(404);
            assertThat(acme.post("/v1/keys", Map.of("tenant", "default", "role", "admin")).status()).isEqualTo(403);
            assertThat(acme.get("/v1/keys?tenant=default").status()).isEqualTo(403);

            // Roles: a reader reads but may not run, deploy or manage keys.
            String readerKey = acme.post("/v1/keys", Map.of("role", "reader")).body().path("key").asText();
            Http reader = new Http(node.url(), readerKey);
            assertThat(reader.get("/v1/tasks").status()).isEqualTo(200);
            assertThat(reader.post("/v1/tasks", Map.of("agent", "x")).status()).isEqualTo(403);
            assertThat(reader.get("/v1/keys").status()).isEqualTo(403);

            // Revocation takes effect on the next request.
            Http.Response listed = acme.get("/v1/keys");
            assertThat(listed.body().path("keys")).hasSize(2);
            String readerId = readerKey.substring(9, 21);
            assertThat(acme.send(acme.builder("/v1/keys/" + readerId).DELETE()).body().path("revoked_at").asText()).isNotBlank();
            assertThat(reader.get("/v1/tasks").status()).isEqualTo(401);

            // Expiry.
            String shortKey = acme.post("/v1/keys", Map.of("role", "runner", "expires_in", "1s")).body().path("key").asText();
            Http brief = new Http(node.url(), shortKey);
            assertThat(brief.get("/v1/tasks").status()).isEqualTo(200);
            Thread.sleep(1200);
            assertThat(brief.get("/v1/tasks").status()).isEqualTo(401);

            // Bad input names the field.
            Http.Response bad = acme.post("/v1/keys", Map.of("role", "superuser"));
            assertThat(bad.status()).isEqualTo(400);
            assertThat(bad.body().path("error").path("field").asText()).isEqualTo("role");
            assertThat(acme.post("/v1/keys", Map.of("role", "reader", "expires_in", "soon")).body().path("error").path("field").asText())
                    .isEqualTo("expires_in");
            assertThat(acme.send(acme.builder("/v1/keys/000000000000").DELETE()).status()).isEqualTo(404);
        }
    }
}
