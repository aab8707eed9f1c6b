package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The walking skeleton through real HTTP, real bubblewrap sandboxes and a real SQLite file. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ApiFlowTest {
    @TempDir
    static Path dir;
    Node node;
    Http http;
    Path examples;

    @BeforeAll
    void start() throws Exception {
        examples = Bundled.extractExamples(dir.resolve("examples"));
        node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of(examples)));
        http = new Http(node.url(), node.firstAdminKey().orElseThrow());
        for (String ex : Bundled.EXAMPLES) assertThat(http.upload("/v1/agents", TarGz.pack(examples.resolve(ex))).status()).isEqualTo(201);
    }

    @AfterAll
    void stop() {
        node.close();
    }

    JsonNode run(String agent, Object input) throws Exception {
        Http.Response r = http.post("/v1/tasks", Map.of("agent", agent, "input", input, "wait", true));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(200);
        return r.body();
    }

    Path agent(String name, String yamlExtra, String... entrypoint) throws Exception {
        Path d = dir.resolve("agents/" + name);
        Files.createDirectories(d);
        StringBuilder ep = new StringBuilder();
        for (String e : entrypoint) ep.append(ep.isEmpty() ? "" : ", ").append(Http.JSON.writeValueAsString(e));
        Files.writeString(d.resolve("agent.yaml"), "name: " + name + "\nversion: 1.0.0\nruntime: bubblewrap\nentrypoint: ["
                + ep + "]\n" + yamlExtra);
        assertThat(http.upload("/v1/agents", TarGz.pack(d)).status()).isEqualTo(201);
        return d;
    }

    @Test
    void summarizerRunsInASandboxAndRecordsItsLifecycle() throws Exception {
        JsonNode t = run("summarizer", Map.of("text", "Cats sleep a lot. Dogs bark at night. Cats and dogs are popular pets. "
                + "Many people keep cats and dogs.", "sentences", 2));
        assertThat(t.path("state").asText()).isEqualTo("succeeded");
        assertThat(t.path("result").path("picked").toString()).isEqualTo("[2,3]");
        assertThat(t.path("result").path("summary").asText()).contains("popular pets");
        List<String> states = new ArrayList<>();
        t.path("lifecycle").forEach(s -> states.add(s.path("state").asText()));
        assertThat(states).containsExactly("cold", "warm", "hot", "terminated");
        assertThat(t.path("usage").path("cpu_ms").asDouble()).as("python ran: it used CPU").isPositive();
        assertThat(t.path("usage").path("memory_peak_bytes").asLong()).isBetween(1L << 20, 128L << 20);
        assertThat(t.path("usage").path("uptime_ms").asLong()).isPositive();
        JsonNode logs = http.get("/v1/tasks/" + t.path("id").asText() + "/logs").body().path("logs");
        assertThat(logs.toString()).contains("summarizing").contains("picked sentences [2, 3]");
    }

    @Test
    void fileIndexerWorksOnItsWorkspace() throws Exception {
        JsonNode t = run("file-indexer", Map.of("documents", Map.of("a.txt", "red green\nblue\n", "b.txt", "green green"),
                "query", "green"));
        assertThat(t.path("state").asText()).isEqualTo("succeeded");
        assertThat(t.path("result").path("matches").toString()).isEqualTo("[{\"file\":\"b.txt\",\"score\":2},{\"file\":\"a.txt\",\"score\":1}]");
        assertThat(t.path("result").path("files").get(0).path("lines").asInt()).isEqualTo(2);
    }

    @Test
    void everyRouteButHealthzNeedsAKey() throws Exception {
        Http anonymous = new Http(node.url(), null);
        assertThat(anonymous.get("/healthz").status()).isEqualTo(200);
        Http.Response r = anonymous.get("/v1/agents");
        assertThat(r.status()).isEqualTo(401);
        assertThat(r.body().path("error").path("code").asText()).isEqualTo("unauthorized");
        assertThat(new Http(node.url(), "aeg_live_000000000000_" + "0".repeat(64)).get("/v1/tasks").status()).isEqualTo(401);
        assertThat(new Http(node.url(), "garbage").post("/v1/tasks", Map.of()).status()).isEqualTo(401);
    }

    @Test
    void badRequestsGetClearErrorsNever500() throws Exception {
        assertError(http.post("/v1/tasks", "{not json"), 400, "invalid_json", null);
        assertError(http.post("/v1/tasks", "[1,2]"), 400, "invalid_request", null);
        assertError(http.post("/v1/tasks", Map.of("agent", "summarizer", "colour", "red")), 400, "invalid_request", "colour");
        assertError(http.post("/v1/tasks", Map.of("input", Map.of())), 400, "invalid_request", "agent");
        assertError(http.post("/v1/tasks", Map.of("agent", "summarizer", "wait", "yes")), 400, "invalid_request", "wait");
        assertError(http.post("/v1/tasks", Map.of("agent", "nope")), 404, "not_found", null);
        assertError(http.send(http.builder("/v1/tasks").header("Content-Type", "text/plain")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}"))), 415, "unsupported_media_type", null);
        assertError(http.post("/v1/tasks", "{\"agent\": \"" + "x".repeat(17 << 20) + "\"}"), 413, "payload_too_large", null);
        assertError(http.get("/v1/tasks/does-not-exist"), 404, "not_found", null);
        assertError(http.get("/v1/nothing-here"), 404, "not_found", null);
        assertError(http.get("/v1/tasks?limit=0"), 400, "invalid_request", "limit");
        assertError(http.post("/v1/agents", Map.of("path", "/etc")), 403, "forbidden", "path");
        assertThat(http.get("/healthz").status()).isEqualTo(200);
    }

    @Test
    void invalidManifestIsRefusedNamingTheField() throws Exception {
        Path d = dir.resolve("agents/badmem");
        Files.createDirectories(d);
        Files.writeString(d.resolve("agent.yaml"), "name: badmem\nversion: 1.0.0\nruntime: bubblewrap\nentrypoint: [sh]\n"
                + "resources: {memory: 12XB}\n");
        Http.Response r = http.upload("/v1/agents", TarGz.pack(d));
        assertError(r, 400, "invalid_manifest", "resources.memory");
        assertThat(r.body().path("error").path("message").asText()).contains("12XB").contains("256Mi");
        assertThat(http.get("/v1/agents/badmem").status()).isEqualTo(404);
    }

    @Test
    void deployByAllowedPath() throws Exception {
        Http.Response r = http.post("/v1/agents", Map.of("path", examples.resolve("summarizer").toString()));
        assertThat(r.status()).isEqualTo(201);
        assertThat(r.body().path("name").asText()).isEqualTo("summarizer");
    }

    @Test
    void misbehavingAgentsFailTheirTaskNotTheServer() throws Exception {
        agent("exits3", "", "sh", "-c", "echo dying >&2; exit 3");
        agent("notjson", "", "sh", "-c", "echo hello world");
        agent("silent", "", "sh", "-c", "exit 0");
        agent("sleeper", "resources: {timeout: 1s}\n", "sh", "-c", "sleep 1000 & sleep 1000");
        agent("flood", "resources: {timeout: 20s}\n", "sh", "-c", "head -c 100000000 /dev/zero | tr '\\0' 'a'");
        agent("crashy", "", "python3", "-c", "raise RuntimeError('boom')");
        agent("hog", "resources: {memory: 64Mi}\n", "python3", "-c", "x = bytearray(512 * 1024 * 1024)");
        agent("forker", "resources: {pids: 8}\n", "sh", "-c", "for i in 1 2 3 4 5 6 7 8 9 10; do sleep 5 & done; wait");
        // Refuses to run outside a sandbox; inside, forks forever against the pids limit until the timeout.
        agent("bomb", "resources: {timeout: 2s, pids: 32}\n", "sh", "-c",
                "[ \"$(hostname)\" = aegis ] || exit 99; while :; do (sleep 30 &) 2>/dev/null; done");
        assertFailure(run("exits3", Map.of()), "exit_code", "code 3");
        assertFailure(run("notjson", Map.of()), "bad_output", "hello world");
        assertFailure(run("silent", Map.of()), "bad_output", "no result");
        assertFailure(run("sleeper", Map.of()), "timeout", "1000 ms");
        JsonNode flood = run("flood", Map.of());
        assertThat(flood.path("state").asText()).isEqualTo("failed");
        assertThat(flood.path("error").path("code").asText()).isIn("output_too_large", "killed");
        assertFailure(run("crashy", Map.of()), "exit_code", "code 1");
        assertFailure(run("hog", Map.of()), "oom", "out of memory: limit 64Mi");
        assertFailure(run("forker", Map.of()), "pids", "pids limit of 8 reached");
        assertFailure(run("bomb", Map.of()), "timeout", "2000 ms");
        assertThat(http.get("/healthz").status()).isEqualTo(200);
        assertThat(run("summarizer", Map.of("text", "Still alive. Serving well.")).path("state").asText()).isEqualTo("succeeded");
        assertThat(Leftovers.of(dir.resolve("data"))).isEmpty();
    }

    @Test
    void agentApiLogsAndAnswersUnknownCallsClearly() throws Exception {
        Path d = agent("caller", "", "python3", "agent.py");
        Files.writeString(d.resolve("agent.py"), """
                import os
                from aegis_agent import task, result, log, call, whoami, AegisError
                log("hello via the agent API")
                try:
                    call("nothing.here", {"messages": []})
                    status = "unexpected"
                except AegisError as e:
                    status = e.code + " " + str(e.status)
                os.environ["AEGIS_TOKEN"] = "forged"
                try:
                    whoami()
                    forged = "accepted"
                except AegisError as e:
                    forged = e.code
                result({"later": status, "forged": forged, "task": task})
                """);
        assertThat(http.upload("/v1/agents", TarGz.pack(d)).status()).isEqualTo(201);
        JsonNode t = run("caller", Map.of("n", 7));
        assertThat(t.path("state").asText()).as(t.toString()).isEqualTo("succeeded");
        assertThat(t.path("result").path("later").asText()).isEqualTo("not_found 404");
        assertThat(t.path("result").path("forged").asText()).isEqualTo("unauthorized");
        assertThat(t.path("result").path("task").path("n").asInt()).isEqualTo(7);
        assertThat(http.get("/v1/tasks/" + t.path("id").asText() + "/logs").body().toString()).contains("hello via the agent API");
    }

    @Test
    void asyncTaskStreamsLogsAndCanBeCancelled() throws Exception {
        agent("ticker", "resources: {timeout: 30s}\n", "sh", "-c",
                "i=0; while [ $i -lt 3 ]; do echo tick $i >&2; i=$((i+1)); sleep 0.2; done; echo '{\"ok\": true}'");
        Http.Response accepted = http.post("/v1/tasks", Map.of("agent", "ticker"));
        assertThat(accepted.status()).isEqualTo(202);
        String id = accepted.body().path("id").asText();
        HttpResponse<java.io.InputStream> sse = http.client().send(http.builder("/v1/tasks/" + id + "/logs/stream")
                .header("Accept", "text/event-stream").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        List<String> events = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(sse.body()))) {
            for (String line; (line = in.readLine()) != null; ) if (line.startsWith("data:")) events.add(line);
        }
        assertThat(String.join("\n", events)).contains("tick 0").contains("tick 2").contains("\"state\":\"succeeded\"");

        agent("forever", "resources: {timeout: 60s}\n", "sh", "-c", "echo started >&2; sleep 600");
        String long_ = http.post("/v1/tasks", Map.of("agent", "forever")).body().path("id").asText();
        for (int i = 0; i < 100 && !http.get("/v1/tasks/" + long_ + "/logs").body().toString().contains("started"); i++) Thread.sleep(50);
        Http.Response cancelled = http.post("/v1/tasks/" + long_ + "/cancel", Map.of());
        assertThat(cancelled.body().path("state").asText()).isEqualTo("cancelled");
        assertThat(Leftovers.of(dir.resolve("data"))).isEmpty();
    }

    static void assertFailure(JsonNode task, String code, String fragment) {
        assertThat(task.path("state").asText()).as(task.toString()).isEqualTo("failed");
        assertThat(task.path("error").path("code").asText()).as(task.toString()).isEqualTo(code);
        assertThat(task.path("error").path("message").asText()).contains(fragment);
    }

    static void assertError(Http.Response r, int status, String code, String field) {
        assertThat(r.status()).as(r.body().toString()).isEqualTo(status);
        assertThat(r.body().path("error").path("code").asText()).as(r.body().toString()).isEqualTo(code);
        assertThat(r.body().path("error").path("message").asText()).isNotBlank();
        if (field != null) assertThat(r.body().path("error").path("field").asText()).isEqualTo(field);
    }
}
