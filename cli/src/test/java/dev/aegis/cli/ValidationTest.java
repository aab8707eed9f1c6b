package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Requests held to the OpenAPI document at run time: query and path parameters, content types, sizes and bodies,
 * each refusal naming the field, the bad value and what is allowed.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ValidationTest {
    @TempDir
    static Path dir;
    Node node;
    Http http;

    @BeforeAll
    void start() throws Exception {
        node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()));
        http = new Http(node.url(), node.firstAdminKey().orElseThrow());
    }

    @AfterAll
    void stop() {
        node.close();
    }

    @Test
    void queryParametersFollowTheDocument() throws Exception {
        refused(http.get("/v1/tasks?limt=5"), 400, "limt", "unknown query parameter; allowed: limit");
        refused(http.get("/v1/tasks?limit=1&limit=2"), 400, "limit", "given 2 times");
        refused(http.get("/v1/tasks?limit=abc"), 400, "limit", "\"abc\" is not an integer from 1 to 500");
        refused(http.get("/v1/tasks?limit=501"), 400, "limit", "\"501\" is out of range; use an integer from 1 to 500");
        refused(http.get("/v1/tasks?limit=99999999999999999999999"), 400, "limit", "out of range");
        refused(http.get("/v1/usage?group_by=day"), 400, "group_by", "\"day\" is not allowed; use one of agent, tenant");
        refused(http.get("/v1/usage?from=yesterday"), 400, "from", "\"yesterday\" is not a time");
        refused(http.get("/v1/keys?tenant=Acme"), 400, "tenant", "\"Acme\" does not match ^[a-z][a-z0-9-]{0,62}$");
        refused(http.get("/v1/audit?after=-1"), 400, "after", "use an integer from 0 to 9223372036854775807");
        refused(http.get("/v1/agents?verbose=true"), 400, "verbose", "GET /v1/agents takes none");
        refused(new Http(node.url(), null).get("/healthz?probe=1"), 400, "probe", "takes none");
        refused(raw("GET", "/v1/tasks?limit=%ZZ"), 400, "limit", "not valid URL encoding");
        refused(raw("GET", "/v1/tasks?limit=%00"), 400, "limit", "\"\\u0000\" is not an integer");
        assertThat(http.get("/v1/tasks?limit=5").status()).isEqualTo(200);
        assertThat(http.get("/v1/audit?limit=5&since=2026-01-01T00:00:00Z&action=key.create").status()).isEqualTo(200);
    }

    @Test
    void pathParametersFollowTheDocument() throws Exception {
        refused(http.get("/v1/tasks/" + "a".repeat(200)), 400, "id", "does not match");
        refused(raw("GET", "/v1/tasks/..%2F..%2Fetc%2Fpasswd"), 400, "id", "\"../../etc/passwd\" does not match");
        refused(raw("GET", "/v1/tasks/%00"), 400, null, "");
        refused(raw("GET", "/v1/tasks/a%00b"), 400, null, "");
        refused(raw("GET", "/v1/tasks/../../v1/keys"), 404, null, "no route");
        refused(raw("GET", "/v1/tasks/%2e%2e"), 400, null, "");
        refused(raw("DELETE", "/v1/keys/%C0%AE%C0%AE"), 400, null, "");
        refused(raw("GET", "/v1/tasks/%ff%fe"), 400, null, "");
        refused(http.get("/v1/agents/Not_A_Name"), 400, "name", "\"Not_A_Name\" does not match");
        refused(http.send(http.builder("/v1/keys/xyz").DELETE()), 400, "id", "\"xyz\" does not match ^[0-9a-f]{12}$");
        refused(http.get("/v1/audit/abc/proof"), 400, "seq", "\"abc\" is not an integer from 1 to 9223372036854775807");
        refused(http.get("/v1/audit/0/proof"), 400, "seq", "out of range");
        refused(http.get("/v1/tasks/does-not-exist"), 404, null, "does not exist");
    }

    @Test
    void bodiesFollowTheirSchema() throws Exception {
        refused(http.post("/v1/tasks", Map.of("agent", "a", "priority", 10)), 400, "priority", "10 is too large; use at most 9");
        refused(http.post("/v1/tasks", Map.of("agent", "a", "priority", "high")), 400, "priority", "\"high\" is a string; expected");
        refused(http.post("/v1/tasks", "{\"agent\": \"a\", \"priority\": 1.5}"), 400, "priority", "1.5 is not an integer from 0 to 9");
        refused(http.post("/v1/tasks", "{\"agent\": \"a\", \"priority\": 1e30}"), 400, "priority", "1E+30 is not an integer from 0 to 9");
        refused(http.post("/v1/tasks", "{\"agent\": \"a\", \"timeout_ms\": 123456789012345678901234567890}"), 400, "timeout_ms", "");
        refused(http.post("/v1/tasks", Map.of("agent", "a", "colour", "red")), 400, "colour",
                "unknown field; allowed: agent, input, wait, timeout_ms, priority");
        refused(http.post("/v1/tasks", Map.of("input", Map.of())), 400, "agent", "is required");
        refused(http.post("/v1/tasks", Map.of("agent", "  ")), 400, "agent", "does not match");
        refused(http.post("/v1/tasks", "[1]"), 400, "body", "a list; expected");
        refused(http.post("/v1/tasks", ""), 400, "body", "is required");
        refused(http.post("/v1/tasks", "{\"agent\": \"a\", \"agent\": \"b\"}"), 400, null, "Duplicate field");
        refused(http.post("/v1/keys", Map.of("role", "superuser")), 400, "role",
                "\"superuser\" is not allowed; use one of admin, deployer, runner, reader");
        refused(http.post("/v1/keys", Map.of("role", "reader", "expires_in", "soon")), 400, "expires_in", "\"soon\" does not match");
        refused(http.post("/v1/tasks/x/cancel", Map.of("force", true)), 400, "body", "takes no body");
        refused(http.post("/v1/tasks/x/cancel", "not json"), 400, null, "not valid JSON");
        refused(http.post("/v1/tasks/x/cancel", Map.of()), 404, null, "");
    }

    @Test
    void contentTypesAndSizesAreEnforced() throws Exception {
        refused(http.send(http.builder("/v1/tasks").header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString("{}"))),
                415, null, "Content-Type \"text/plain\" is not accepted by POST /v1/tasks; use application/json");
        refused(http.send(http.builder("/v1/tasks").POST(HttpRequest.BodyPublishers.ofString("{}"))), 415, null, "use application/json");
        refused(http.send(http.builder("/v1/agents").header("Content-Type", "application/zip").POST(HttpRequest.BodyPublishers.ofString("PK"))),
                415, null, "use application/gzip or application/x-gzip or application/json");
        String big = "{\"agent\": \"" + "x".repeat(17 << 20) + "\"}";
        refused(http.post("/v1/tasks", big), 413, null, "exceeds 16777216 bytes");
        refused(http.post("/v1/tasks/x/cancel", big), 413, null, "exceeds");
        // Without Content-Length (chunked): the cap holds all the same.
        refused(http.send(http.builder("/v1/tasks").header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofInputStream(
                () -> new java.io.ByteArrayInputStream(big.getBytes())))), 413, null, "exceeds");
    }

    @Test
    void refusalsChangeNothing() throws Exception {
        String before = http.get("/v1/tasks").raw().body() + http.get("/v1/keys").raw().body();
        http.post("/v1/tasks", Map.of("agent", "a", "priority", 10));
        http.post("/v1/keys", Map.of("role", "admin", "extra", 1));
        http.post("/v1/keys?tenant=acme", Map.of("role", "admin"));
        assertThat(http.get("/v1/tasks").raw().body() + http.get("/v1/keys").raw().body()).isEqualTo(before);
    }

    private Http.Response raw(String method, String target) throws Exception {
        RawHttp.Response r = RawHttp.send(node.url(), method, target, Map.of("Authorization", "Bearer " + node.firstAdminKey().orElseThrow()), new byte[0]);
        assertThat(r.headers().get("content-type")).as(target + " -> " + r.status() + " " + r.body()).startsWith("application/json");
        return new Http.Response(r.status(), r.json(), null);
    }

    private static void refused(Http.Response r, int status, String field, String message) {
        if (r.raw() == null) {
            assertThat(r.status()).as(r.body().toString()).isEqualTo(status);
            assertThat(r.body().path("error").path("message").asText()).as(r.body().toString()).contains(message);
            if (field != null) assertThat(r.body().path("error").path("field").asText()).as(r.body().toString()).isEqualTo(field);
            return;
        }
        assertThat(r.status()).as(r.raw().body()).isEqualTo(status);
        assertThat(r.raw().headers().firstValue("Content-Type").orElse("")).as(r.raw().body()).startsWith("application/json");
        assertThat(r.body().path("error").path("message").asText()).as(r.raw().body()).contains(message);
        if (field != null) assertThat(r.body().path("error").path("field").asText()).as(r.raw().body()).isEqualTo(field);
    }
}
