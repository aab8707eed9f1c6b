package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.dialect.Dialects;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /openapi.json} against the live API: every documented operation is routed, routes that are not documented
 * are not, every example fits its schema, and real responses fit the documented ones (so the document cannot drift
 * from Views).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenApiTest {
    /** The document's base IRI for the validator: {@code #/components/...} refs resolve inside it. */
    private static final String BASE = "https://aegis.invalid/openapi.json";
    private static final Set<String> METHODS = Set.of("get", "post", "put", "patch", "delete");

    @TempDir
    static Path dir;
    Node node;
    Http http;
    JsonNode doc;
    SchemaRegistry registry;

    @BeforeAll
    void start() throws Exception {
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of(examples)));
        http = new Http(node.url(), node.firstAdminKey().orElseThrow());
        assertThat(http.upload("/v1/agents", TarGz.pack(examples.resolve("summarizer"))).status()).isEqualTo(201);
        Http.Response r = new Http(node.url(), null).get("/openapi.json");
        assertThat(r.status()).isEqualTo(200);
        doc = r.body();
        String text = r.raw().body();
        registry = SchemaRegistry.withDefaultDialect(Dialects.getOpenApi31(), b -> b.schemas(Map.of(BASE, text)));
    }

    @AfterAll
    void stop() {
        node.close();
    }

    @Test
    void servedWithoutAKeyAsOpenApi31() throws Exception {
        Http.Response r = new Http(node.url(), null).get("/openapi.json");
        assertThat(r.status()).isEqualTo(200);
        assertThat(r.raw().headers().firstValue("Content-Type").orElse("")).startsWith("application/json");
        assertThat(r.body().path("openapi").asText()).isEqualTo("3.1.0");
        assertThat(r.body().path("paths").size()).isGreaterThan(10);
        assertThat(r.body().path("paths").path("/healthz").path("get").path("security").isArray()).isTrue();
        assertThat(r.body().path("paths").path("/openapi.json").path("get").path("security").size()).isZero();
        assertThat(r.body().path("security").toString()).contains("bearer");
    }

    @Test
    void everyDocumentedOperationIsRoutedAndAnswersADocumentedStatus() throws Exception {
        List<String> operations = new ArrayList<>();
        for (Map.Entry<String, JsonNode> p : doc.path("paths").properties()) {
            String path = p.getKey().replace("{id}", "does-not-exist").replace("{name}", "no-such-agent").replace("{seq}", "999999999");
            for (Map.Entry<String, JsonNode> m : p.getValue().properties()) {
                if (!METHODS.contains(m.getKey())) continue;
                operations.add(m.getKey().toUpperCase() + " " + p.getKey());
                Http.Response r = call(m.getKey().toUpperCase(), path);
                assertThat(routed(r)).as(m.getKey() + " " + path + ": " + r.body()).isTrue();
                assertThat(m.getValue().path("responses").has(Integer.toString(r.status())))
                        .as(m.getKey() + " " + path + " answered " + r.status() + " " + r.body() + ", not documented").isTrue();
            }
        }
        assertThat(operations).containsExactlyInAnyOrder("GET /healthz", "GET /openapi.json", "GET /metrics",
                "POST /v1/agents", "GET /v1/agents", "GET /v1/agents/{name}",
                "POST /v1/tasks", "GET /v1/tasks", "GET /v1/tasks/{id}", "GET /v1/tasks/{id}/logs",
                "GET /v1/tasks/{id}/logs/stream", "POST /v1/tasks/{id}/cancel", "GET /v1/tasks/{id}/children", "GET /v1/events",
                "GET /v1/instances", "POST /v1/instances/{id}/terminate",
                "POST /v1/keys", "GET /v1/keys", "DELETE /v1/keys/{id}", "GET /v1/usage",
                "GET /v1/secrets", "PUT /v1/secrets/{name}", "DELETE /v1/secrets/{name}",
                "PUT /v1/llm/provider", "GET /v1/llm/provider", "DELETE /v1/llm/provider",
                "GET /v1/audit", "GET /v1/audit/verify", "GET /v1/audit/pubkey", "GET /v1/audit/export",
                "GET /v1/audit/{seq}/proof", "POST /v1/tasks/{id}/feedback", "GET /v1/memory/search", "GET /v1/memory/stats",
                "DELETE /v1/memory", "DELETE /v1/memory/agents/{name}", "DELETE /v1/memory/tasks/{id}",
                "POST /v1/tools/servers", "GET /v1/tools/servers", "GET /v1/tools/servers/{name}", "DELETE /v1/tools/servers/{name}",
                "POST /v1/tools/servers/{name}/test", "POST /mcp");
    }

    @Test
    void theLiveRouteTableEqualsTheDocument() {
        List<String> documented = new java.util.ArrayList<>();
        for (Map.Entry<String, JsonNode> p : doc.path("paths").properties())
            for (String method : METHODS)
                if (p.getValue().has(method)) documented.add(method.toUpperCase() + " " + p.getKey());
        // Javalin writes path parameters as {name}, like OpenAPI; SSE endpoints are GET handlers.
        assertThat(node.routes()).containsExactlyInAnyOrderElementsOf(documented);
    }

    @Test
    void nothingUndocumentedIsRouted() throws Exception {
        // Every other method on a documented path...
        for (Map.Entry<String, JsonNode> p : doc.path("paths").properties()) {
            String path = p.getKey().replace("{id}", "x").replace("{name}", "x").replace("{seq}", "1");
            for (String method : METHODS)
                if (!p.getValue().has(method)) {
                    Http.Response r = call(method.toUpperCase(), path);
                    assertThat(routed(r)).as(method + " " + path + " is live but not documented: " + r.status() + " " + r.body()).isFalse();
                }
        }
        // ...and paths a route might plausibly hide under.
        for (String path : List.of("/", "/v1", "/v1/", "/openapi.yaml", "/metrics/x", "/v1/keys/x/y", "/v1/tenants", "/v1/agents/x/versions",
                "/v1/agents/x/tasks", "/v1/tasks/x/result", "/v1/tasks/x/logs/x", "/v1/instances/x", "/v1/audit/checkpoints",
                "/v1/audit/1", "/v1/audit/x/y", "/v1/nothing-here", "/healthz/x")) {
            for (String method : List.of("GET", "POST")) {
                Http.Response r = call(method, path);
                assertThat(routed(r)).as(method + " " + path + " is live but not documented: " + r.status() + " " + r.body()).isFalse();
                if (r.status() == 404) assertThat(r.body().path("error").path("message").asText()).startsWith("no route");
            }
        }
    }

    @Test
    void everyExampleFitsItsSchema() {
        List<String> checked = new ArrayList<>();
        List<String> problems = new ArrayList<>();
        walk(doc, "", checked, problems);
        assertThat(problems).isEmpty();
        assertThat(checked).hasSizeGreaterThan(40);
        // The validator really checks, through $refs: wrong shapes fail.
        JsonNode task = doc.at("/components/schemas/Task/examples/0");
        assertThat(validate(doc.at("/components/schemas/Task"), task.toString())).isEmpty();
        assertThat(validate(doc.at("/components/schemas/Task"), task.toString().replace("\"cpu_ms\":", "\"cpu_ms\":\"x\",\"y\":"))).isNotEmpty();
        assertThat(validate(doc.at("/components/schemas/Task"), task.toString().replace("\"exit_code\"", "\"exitCode\""))).isNotEmpty();
        assertThat(validate(doc.at("/components/schemas/AgentList"), "{\"agents\": [{\"name\": \"x\"}]}")).isNotEmpty();
        assertThat(validate(doc.at("/components/schemas/SubmitTask"), "{\"agent\": \"a\", \"priority\": 10}")).isNotEmpty();
        // At least one example per request body and per 2xx response.
        for (Map.Entry<String, JsonNode> p : doc.path("paths").properties())
            for (Map.Entry<String, JsonNode> m : p.getValue().properties()) {
                if (!METHODS.contains(m.getKey())) continue;
                String op = m.getKey() + " " + p.getKey();
                for (Map.Entry<String, JsonNode> c : m.getValue().path("requestBody").path("content").properties())
                    assertThat(hasExample(c.getValue())).as(op + " request " + c.getKey()).isTrue();
                int ok = 0;
                for (Map.Entry<String, JsonNode> r : m.getValue().path("responses").properties())
                    if (r.getKey().startsWith("2")) {
                        ok++;
                        for (Map.Entry<String, JsonNode> c : resolve(r.getValue()).path("content").properties())
                            assertThat(hasExample(c.getValue())).as(op + " " + r.getKey() + " " + c.getKey()).isTrue();
                    }
                assertThat(ok).as(op + " documents a success").isPositive();
            }
    }

    @Test
    void errorSchemaCoversEveryMappedStatus() {
        Set<String> statuses = new TreeSet<>();
        for (Map.Entry<String, JsonNode> r : doc.path("components").path("responses").properties()) {
            assertThat(r.getValue().path("content").path("application/json").path("schema").path("$ref").asText())
                    .isEqualTo("#/components/schemas/Error");
            statuses.add(r.getKey());
        }
        String codes = doc.path("components").path("schemas").path("Error").toString();
        for (String code : List.of("invalid_request", "invalid_manifest", "invalid_json", "unauthorized", "policy_denied", "forbidden",
                "not_found", "method_not_allowed", "conflict", "payload_too_large", "unsupported_media_type", "runtime_unavailable",
                "rate_limited", "not_available", "overloaded", "internal_error"))
            assertThat(codes).contains("\"" + code + "\"");
        assertThat(statuses).contains("BadRequest", "Unauthorized", "Forbidden", "NotFound", "MethodNotAllowed", "Conflict",
                "PayloadTooLarge", "UnsupportedMediaType", "RuntimeUnavailable", "RateLimited", "NotAvailable", "Overloaded",
                "InternalError");
    }

    @Test
    void realResponsesFitTheDocumentedSchemas() throws Exception {
        Http.Response submitted = http.post("/v1/tasks", Map.of("agent", "summarizer", "wait", true,
                "input", Map.of("text", "Cats sleep a lot. Dogs bark at night. Cats and dogs are popular pets.", "sentences", 1)));
        assertThat(submitted.status()).as(submitted.body().toString()).isEqualTo(200);
        assertThat(submitted.body().path("state").asText()).isEqualTo("succeeded");
        conforms("POST", "/v1/tasks", submitted);
        String id = submitted.body().path("id").asText();

        Http.Response task = http.get("/v1/tasks/" + id);
        assertThat(task.body().path("lifecycle").size()).isPositive();
        conforms("GET", "/v1/tasks/" + id, task);
        conforms("GET", "/v1/agents", http.get("/v1/agents"));
        conforms("GET", "/v1/agents/summarizer", http.get("/v1/agents/summarizer"));
        conforms("GET", "/v1/tasks", http.get("/v1/tasks?limit=5"));
        conforms("GET", "/v1/tasks/" + id + "/logs", http.get("/v1/tasks/" + id + "/logs"));
        conforms("POST", "/v1/tasks/" + id + "/cancel", http.post("/v1/tasks/" + id + "/cancel", Map.of()));
        conforms("GET", "/v1/instances", http.get("/v1/instances"));
        conforms("GET", "/v1/audit", http.get("/v1/audit?limit=50"));
        conforms("GET", "/v1/audit/verify", http.get("/v1/audit/verify"));
        conforms("GET", "/healthz", http.get("/healthz"));
        conforms("PUT", "/v1/secrets/OPENAPI_TOKEN", SecretsTest.put(http, "OPENAPI_TOKEN", "first-value"));
        conforms("PUT", "/v1/secrets/OPENAPI_TOKEN", SecretsTest.put(http, "OPENAPI_TOKEN", "second-value"));
        conforms("PUT", "/v1/secrets/bad-name", SecretsTest.put(http, "bad-name", "some-value"));
        conforms("GET", "/v1/secrets", http.get("/v1/secrets"));
        conforms("DELETE", "/v1/secrets/OPENAPI_TOKEN", http.send(http.builder("/v1/secrets/OPENAPI_TOKEN").DELETE()));
        conforms("DELETE", "/v1/secrets/OPENAPI_TOKEN", http.send(http.builder("/v1/secrets/OPENAPI_TOKEN").DELETE()));
        String provider = "{\"kind\": \"openai\", \"base_url\": \"http://127.0.0.1:9/v1\", \"key_secret\": \"OPENAPI_LLM_KEY\"}";
        conforms("PUT", "/v1/llm/provider", LlmTest.putProvider(http, provider));
        conforms("GET", "/v1/llm/provider", http.get("/v1/llm/provider"));
        SecretsTest.put(http, "OPENAPI_LLM_KEY", "sk-openapi-1234");
        conforms("PUT", "/v1/llm/provider", LlmTest.putProvider(http, provider));
        conforms("PUT", "/v1/llm/provider", LlmTest.putProvider(http, provider));
        conforms("PUT", "/v1/llm/provider", LlmTest.putProvider(http, provider.replace("openai\"", "gemini\"")));
        conforms("GET", "/v1/llm/provider", http.get("/v1/llm/provider"));
        conforms("GET", "/v1/usage", http.get("/v1/usage"));
        conforms("DELETE", "/v1/llm/provider", http.send(http.builder("/v1/llm/provider").DELETE()));
        conforms("DELETE", "/v1/llm/provider", http.send(http.builder("/v1/llm/provider").DELETE()));

        // Tool servers: registered, replaced, listed, one that crashes at start, bad registrations.
        String crashy = "{\"name\": \"openapi-crashy\", \"command\": [\"/bin/sh\", \"-c\", \"exit 3\"], \"resources\": {\"timeout\": \"5s\"}}";
        conforms("POST", "/v1/tools/servers", http.post("/v1/tools/servers", crashy));
        conforms("POST", "/v1/tools/servers", http.post("/v1/tools/servers", crashy));
        conforms("POST", "/v1/tools/servers", http.post("/v1/tools/servers", "{\"name\": \"web\", \"url\": \"http://127.0.0.1:9/mcp\", "
                + "\"permissions\": {\"network\": {\"egress\": [\"127.0.0.1:9\"]}}}"));
        conforms("POST", "/v1/tools/servers", http.post("/v1/tools/servers", "{\"name\": \"x\", \"command\": [\"x\"], \"env\": {}}"));
        conforms("GET", "/v1/tools/servers", http.get("/v1/tools/servers"));
        conforms("GET", "/v1/tools/servers/openapi-crashy", http.get("/v1/tools/servers/openapi-crashy"));
        conforms("GET", "/v1/tools/servers/nope", http.get("/v1/tools/servers/nope"));
        Http.Response failed502 = http.post("/v1/tools/servers/openapi-crashy/test", Map.of());
        assertThat(failed502.status()).as(failed502.body().toString()).isEqualTo(502);
        conforms("POST", "/v1/tools/servers/openapi-crashy/test", failed502);
        assertThat(http.send(http.builder("/v1/tools/servers/web").DELETE()).status()).isEqualTo(204);
        conforms("DELETE", "/v1/tools/servers/web", http.send(http.builder("/v1/tools/servers/web").DELETE()));

        // A task that is not waited for: 202 (or 200 if it was quick) with the same shape.
        Http.Response async = http.post("/v1/tasks", Map.of("agent", "summarizer", "input", Map.of("text", "One sentence.")));
        assertThat(async.status()).isIn(200, 202);
        conforms("POST", "/v1/tasks", async);
        Http.Response failed = http.post("/v1/tasks", Map.of("agent", "summarizer", "wait", true, "input", "not an object"));
        conforms("POST", "/v1/tasks", failed);

        // The event stream: its log and end events carry the documented shapes.
        String stream = http.client().send(http.builder("/v1/tasks/" + id + "/logs/stream").header("Accept", "text/event-stream").GET().build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        Map<String, List<String>> events = events(stream);
        assertThat(events.keySet()).contains("log", "end");
        JsonNode kinds = operation("GET", "/v1/tasks/{id}/logs/stream").path("x-events");
        for (Map.Entry<String, List<String>> e : events.entrySet())
            for (String data : e.getValue()) assertThat(validate(kinds.path(e.getKey()), data)).as(e.getKey() + ": " + data).isEmpty();
        Map<String, List<String>> unknown = events(http.client().send(http.builder("/v1/tasks/nope/logs/stream").header("Accept", "text/event-stream").GET().build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body());
        assertThat(unknown).containsOnlyKeys("error");
        assertThat(validate(kinds.path("error"), unknown.get("error").getFirst())).isEmpty();

        // Children, and the task event stream with its documented event shapes.
        conforms("GET", "/v1/tasks/" + id + "/children", http.get("/v1/tasks/" + id + "/children"));
        conforms("GET", "/v1/tasks/nope/children", http.get("/v1/tasks/nope/children"));
        JsonNode eventKinds = operation("GET", "/v1/events").path("x-events");
        Map<String, List<String>> taskEvents = events(http.client().send(http.builder("/v1/events?after=0&follow=false")
                .header("Accept", "text/event-stream").GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body());
        assertThat(taskEvents.keySet()).containsExactly("task");
        for (String data : taskEvents.get("task")) assertThat(validate(eventKinds.path("task"), data)).as(data).isEmpty();
        Map<String, List<String>> badEvents = events(http.client().send(http.builder("/v1/events?subject=x")
                .header("Accept", "text/event-stream").GET().build(), java.net.http.HttpResponse.BodyHandlers.ofString()).body());
        assertThat(badEvents).containsOnlyKeys("error");
        assertThat(validate(eventKinds.path("error"), badEvents.get("error").getFirst())).isEmpty();

        // Errors, whatever the route, fit the Error schema of the status.
        conforms("GET", "/v1/tasks/nope", http.get("/v1/tasks/nope"));
        conforms("GET", "/v1/tasks", http.get("/v1/tasks?limit=0"));
        conforms("POST", "/v1/tasks", http.post("/v1/tasks", Map.of("agent", "summarizer", "colour", "red")));
        conforms("POST", "/v1/tasks", http.send(http.builder("/v1/tasks").header("Content-Type", "text/plain")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))));
        conforms("GET", "/v1/agents", new Http(node.url(), null).get("/v1/agents"));
        conforms("POST", "/v1/agents", http.post("/v1/agents", Map.of("path", "/etc")));

        // A proof once a checkpoint covers record 1 (every 10 s).
        Http.Response proof = http.get("/v1/audit/1/proof");
        for (long deadline = System.nanoTime() + 20_000_000_000L; proof.status() == 404 && System.nanoTime() < deadline; ) {
            Thread.sleep(250);
            proof = http.get("/v1/audit/1/proof");
        }
        assertThat(proof.status()).as(proof.body().toString()).isEqualTo(200);
        conforms("GET", "/v1/audit/1/proof", proof);
    }

    // ---- helpers ----

    /** A request with a valid admin key; POSTs carry an empty JSON object. */
    private Http.Response call(String method, String path) throws Exception {
        HttpRequest.Builder b = http.builder(path);
        if (path.endsWith("/stream")) b.header("Accept", "text/event-stream");
        if (method.equals("GET") || method.equals("DELETE")) b.method(method, HttpRequest.BodyPublishers.noBody());
        else b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString("{}"));
        java.net.http.HttpResponse<String> raw = http.client().send(b.build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        JsonNode body = raw.headers().firstValue("Content-Type").orElse("").startsWith("application/json") && !raw.body().isBlank()
                ? Http.JSON.readTree(raw.body()) : Http.JSON.createObjectNode();
        return new Http.Response(raw.statusCode(), body, raw);
    }

    /** Whether Javalin had a route: neither its "no route" 404 nor a 405 for another method on the path. */
    private static boolean routed(Http.Response r) {
        String code = r.body().path("error").path("code").asText();
        boolean noRoute = r.status() == 404 && code.equals("not_found") && r.body().path("error").path("message").asText().startsWith("no route");
        return !noRoute && !(r.status() == 405 && code.equals("method_not_allowed"));
    }

    /** The real response fits the schema the document gives for its route, status and content type. */
    private void conforms(String method, String path, Http.Response r) {
        JsonNode response = resolve(operation(method, path).path("responses").path(Integer.toString(r.status())));
        assertThat(response.isMissingNode()).as(method + " " + path + ": status " + r.status() + " is not documented").isFalse();
        String type = r.raw().headers().firstValue("Content-Type").orElse("").split(";")[0].strip();
        JsonNode schema = response.path("content").path(type).path("schema");
        assertThat(schema.isMissingNode()).as(method + " " + path + " " + r.status() + ": " + type + " is not documented").isFalse();
        assertThat(validate(schema, r.raw().body())).as(method + " " + path + " " + r.status() + ": " + r.raw().body()).isEmpty();
    }

    private JsonNode operation(String method, String path) {
        for (Map.Entry<String, JsonNode> p : doc.path("paths").properties())
            if (Pattern.matches(p.getKey().replaceAll("\\{[^}]+}", "[^/]+"), path) && p.getValue().has(method.toLowerCase()))
                return p.getValue().path(method.toLowerCase());
        throw new AssertionError(method + " " + path + " is not in the document");
    }

    /** A {@code $ref} to a component, followed. */
    private JsonNode resolve(JsonNode node) {
        String ref = node.path("$ref").asText();
        return ref.startsWith("#/") ? resolve(doc.at(ref.substring(1))) : node;
    }

    private List<Error> validate(JsonNode schema, String json) {
        String text = schema.toString().replace("\"$ref\":\"#/", "\"$ref\":\"" + BASE + "#/");
        Schema compiled = registry.getSchema(text, InputFormat.JSON);
        return compiled.validate(json, InputFormat.JSON);
    }

    /** Checks every example (media types, parameters, schemas' own {@code examples}) against the schema beside it. */
    private void walk(JsonNode node, String at, List<String> checked, List<String> problems) {
        if (node.isObject()) {
            if (node.has("schema")) {
                List<JsonNode> values = new ArrayList<>();
                if (node.has("example")) values.add(node.get("example"));
                for (JsonNode e : node.path("examples")) if (e.has("value")) values.add(e.get("value"));
                for (JsonNode v : values) check(node.get("schema"), v, at, checked, problems);
            }
            if (at.startsWith("/components/schemas/") && node.path("examples").isArray())
                for (JsonNode v : node.get("examples")) check(node, v, at, checked, problems);
            for (Iterator<Map.Entry<String, JsonNode>> it = node.properties().iterator(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                walk(f.getValue(), at + "/" + f.getKey().replace("~", "~0").replace("/", "~1"), checked, problems);
            }
        } else if (node.isArray()) {
            for (int i = 0; i < node.size(); i++) walk(node.get(i), at + "/" + i, checked, problems);
        }
    }

    private void check(JsonNode schema, JsonNode value, String at, List<String> checked, List<String> problems) {
        checked.add(at);
        List<Error> errors = validate(schema, value.toString());
        if (!errors.isEmpty()) problems.add(at + ": " + errors);
    }

    private static boolean hasExample(JsonNode mediaType) {
        if (mediaType.has("example")) return true;
        for (JsonNode e : mediaType.path("examples")) if (e.has("value") || e.has("externalValue")) return true;
        return false;
    }

    /** Server-sent events by name: the data of each. */
    private static Map<String, List<String>> events(String stream) {
        Map<String, List<String>> events = new LinkedHashMap<>();
        for (String block : stream.split("\n\n")) {
            String name = "message";
            StringBuilder data = new StringBuilder();
            boolean any = false;
            for (String line : block.split("\n")) {
                if (line.startsWith("event:")) name = line.substring(6).strip();
                else if (line.startsWith("data:")) {
                    data.append(data.isEmpty() ? "" : "\n").append(line.substring(5).strip());
                    any = true;
                }
            }
            if (any) events.computeIfAbsent(name, k -> new ArrayList<>()).add(data.toString());
        }
        return events;
    }
}
