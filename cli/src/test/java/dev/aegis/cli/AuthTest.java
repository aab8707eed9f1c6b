package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Who may call what: every live route against every kind of caller. The table is checked against the live route
 * list first, so a new route without a row here fails this test until someone decides who may call it.
 */
class AuthTest {
    private static final Set<String> ALL = Set.of("admin", "deployer", "runner", "reader", "acme-admin");
    private static final Set<String> RUNNERS = Set.of("admin", "deployer", "runner", "acme-admin");
    private static final Set<String> ADMINS = Set.of("admin", "acme-admin");
    private static final Set<String> PLATFORM = Set.of("admin");
    private static final Set<String> PUBLIC = Set.of("admin", "deployer", "runner", "reader", "acme-admin", "none", "revoked", "expired");
    private static final List<String> CALLERS = List.of("admin", "deployer", "runner", "reader", "acme-admin", "none", "revoked", "expired");

    /** A route, who may call it, and a request that is valid for it (so only the caller decides 401/403). */
    record Row(Set<String> allowed, String path, String body) {}

    private static final Map<String, Row> TABLE = new LinkedHashMap<>();

    static {
        TABLE.put("GET /healthz", new Row(PUBLIC, "/healthz", null));
        TABLE.put("GET /openapi.json", new Row(PUBLIC, "/openapi.json", null));
        TABLE.put("GET /metrics", new Row(ADMINS, "/metrics", null));
        TABLE.put("POST /v1/agents", new Row(Set.of("admin", "deployer", "acme-admin"), "/v1/agents", "{\"path\": \"/no/such/folder\"}"));
        TABLE.put("GET /v1/agents", new Row(ALL, "/v1/agents", null));
        TABLE.put("GET /v1/agents/{name}", new Row(ALL, "/v1/agents/nope", null));
        TABLE.put("POST /v1/tasks", new Row(RUNNERS, "/v1/tasks", "{\"agent\": \"nope\"}"));
        TABLE.put("GET /v1/tasks", new Row(ALL, "/v1/tasks", null));
        TABLE.put("GET /v1/tasks/{id}", new Row(ALL, "/v1/tasks/nope", null));
        TABLE.put("GET /v1/tasks/{id}/logs", new Row(ALL, "/v1/tasks/nope/logs", null));
        TABLE.put("GET /v1/tasks/{id}/logs/stream", new Row(ALL, "/v1/tasks/nope/logs/stream", null));
        TABLE.put("POST /v1/tasks/{id}/cancel", new Row(RUNNERS, "/v1/tasks/nope/cancel", ""));
        TABLE.put("GET /v1/tasks/{id}/children", new Row(ALL, "/v1/tasks/nope/children", null));
        TABLE.put("GET /v1/events", new Row(ALL, "/v1/events?follow=false", null));
        TABLE.put("GET /v1/instances", new Row(ALL, "/v1/instances", null));
        TABLE.put("POST /v1/instances/{id}/terminate", new Row(RUNNERS, "/v1/instances/i-nope/terminate", ""));
        TABLE.put("POST /v1/keys", new Row(ADMINS, "/v1/keys", "{\"role\": \"reader\"}"));
        TABLE.put("GET /v1/keys", new Row(ADMINS, "/v1/keys", null));
        TABLE.put("DELETE /v1/keys/{id}", new Row(ADMINS, "/v1/keys/000000000000", null));
        TABLE.put("PUT /v1/secrets/{name}", new Row(Set.of("admin", "deployer", "acme-admin"), "/v1/secrets/AUTH_TEST", "{\"value\": \"s3cret\"}"));
        TABLE.put("GET /v1/secrets", new Row(ALL, "/v1/secrets", null));
        TABLE.put("DELETE /v1/secrets/{name}", new Row(Set.of("admin", "deployer", "acme-admin"), "/v1/secrets/NO_SUCH_SECRET", null));
        TABLE.put("GET /v1/usage", new Row(ALL, "/v1/usage", null));
        TABLE.put("PUT /v1/llm/provider", new Row(ADMINS, "/v1/llm/provider",
                "{\"kind\": \"openai\", \"base_url\": \"http://127.0.0.1:9/v1\", \"key_secret\": \"AUTH_TEST\"}"));
        TABLE.put("GET /v1/llm/provider", new Row(ALL, "/v1/llm/provider", null));
        TABLE.put("DELETE /v1/llm/provider", new Row(ADMINS, "/v1/llm/provider", null));
        // Tool servers run code under the grants they name, like agents: admins and deployers add and remove them; runners
        // may also test one (it starts a sandbox, as their tasks do); any role lists them.
        TABLE.put("POST /v1/tools/servers", new Row(Set.of("admin", "deployer", "acme-admin"), "/v1/tools/servers",
                "{\"name\": \"auth-test\", \"command\": [\"true\"]}"));
        TABLE.put("GET /v1/tools/servers", new Row(ALL, "/v1/tools/servers", null));
        TABLE.put("GET /v1/tools/servers/{name}", new Row(ALL, "/v1/tools/servers/nope", null));
        TABLE.put("DELETE /v1/tools/servers/{name}", new Row(Set.of("admin", "deployer", "acme-admin"), "/v1/tools/servers/nope", null));
        TABLE.put("POST /v1/tools/servers/{name}/test", new Row(RUNNERS, "/v1/tools/servers/nope/test", ""));
        TABLE.put("GET /v1/audit", new Row(ALL, "/v1/audit", null));
        TABLE.put("GET /v1/audit/verify", new Row(PLATFORM, "/v1/audit/verify", null));
        TABLE.put("GET /v1/audit/pubkey", new Row(ALL, "/v1/audit/pubkey", null));
        TABLE.put("GET /v1/audit/export", new Row(PLATFORM, "/v1/audit/export", null));
        TABLE.put("GET /v1/audit/{seq}/proof", new Row(ALL, "/v1/audit/1/proof", null));
        // Memory: any role of the tenant searches and sizes it; runners rate tasks; deleting is for admins and deployers.
        TABLE.put("GET /v1/memory/search", new Row(ALL, "/v1/memory/search?q=anything", null));
        TABLE.put("GET /v1/memory/stats", new Row(ALL, "/v1/memory/stats", null));
        TABLE.put("POST /v1/tasks/{id}/feedback", new Row(RUNNERS, "/v1/tasks/nope/feedback", "{\"score\": 1}"));
        TABLE.put("DELETE /v1/memory", new Row(Set.of("admin", "deployer", "acme-admin"), "/v1/memory?all=true", null));
        TABLE.put("DELETE /v1/memory/agents/{name}", new Row(Set.of("admin", "deployer", "acme-admin"), "/v1/memory/agents/nope", null));
        TABLE.put("DELETE /v1/memory/tasks/{id}", new Row(Set.of("admin", "deployer", "acme-admin"), "/v1/memory/tasks/nope", null));
        // MCP: any key of a tenant; each tool call is then held to its own route's roles (McpServerTest).
        TABLE.put("POST /mcp", new Row(ALL, "/mcp", "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"tools/list\"}"));
    }

    @TempDir
    Path dir;

    @Test
    void everyRouteAgainstEveryCaller() throws Exception {
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()))) {
            assertThat(TABLE.keySet()).as("a live route needs a row in AuthTest.TABLE").containsExactlyInAnyOrderElementsOf(node.routes());
            Map<String, String> keys = new LinkedHashMap<>();
            keys.put("admin", node.firstAdminKey().orElseThrow());
            for (String role : List.of("deployer", "runner", "reader")) keys.put(role, node.keys().create("default", role).plaintext());
            keys.put("acme-admin", node.keys().create("acme", "admin").plaintext());
            var revoked = node.keys().create("default", "admin");
            node.keys().revoke("default", revoked.key().id());
            keys.put("revoked", revoked.plaintext());
            keys.put("expired", node.keys().create("default", "admin", java.util.Optional.of(java.time.Duration.ofMillis(1))).plaintext());
            Thread.sleep(5);
            keys.put("none", null);

            List<String> wrong = new ArrayList<>();
            int calls = 0;
            for (Map.Entry<String, Row> e : TABLE.entrySet()) {
                String method = e.getKey().substring(0, e.getKey().indexOf(' '));
                for (String caller : CALLERS) {
                    Http http = new Http(node.url(), keys.get(caller));
                    HttpRequest.Builder b = http.builder(e.getValue().path());
                    if (e.getValue().path().endsWith("/stream")) b.header("Accept", "text/event-stream");
                    String body = e.getValue().body();
                    b = body == null ? b.method(method, HttpRequest.BodyPublishers.noBody())
                            : b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
                    Http.Response r = http.send(b);
                    calls++;
                    boolean allowed = e.getValue().allowed().contains(caller);
                    boolean ok = allowed ? r.status() != 401 && r.status() != 403
                            : r.status() == (Set.of("none", "revoked", "expired").contains(caller) ? 401 : 403);
                    if (!ok) wrong.add(e.getKey() + " as " + caller + ": " + r.status() + " " + r.raw().body());
                    if (!allowed) assertThat(r.body().path("error").path("code").asText()).isIn("unauthorized", "forbidden");
                }
            }
            assertThat(wrong).isEmpty();
            assertThat(calls).isEqualTo(TABLE.size() * CALLERS.size());
        }
    }
}
