package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.aegis.core.Hashes;
import dev.aegis.security.EgressConfig;
import dev.aegis.security.Resolver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tool calls from real agents: checked against the manifest before anything leaves AEGIS, every call audited,
 * and the built-in {@code http.fetch} going out through the real egress proxy to a local server.
 */
class ToolsTest {
    @TempDir
    Path dir;

    /** Calls each tool of the input and reports the result or the error, never raising. */
    static final String CALLER = """
            import time
            from aegis_agent import task, result, tools, AegisError
            out = {"list": tools.list()}
            if task.get("bench"):
                n = task["bench"]
                t0 = time.perf_counter()
                for _ in range(n):
                    tools.list()
                t1 = time.perf_counter()
                for _ in range(n):
                    try:
                        tools.call("gmail.list_messages", {"q": "x"})
                    except AegisError:
                        pass
                t2 = time.perf_counter()
                out["list_ms"], out["denied_ms"] = (t1 - t0) * 1000 / n, (t2 - t1) * 1000 / n
            for i, (name, args) in enumerate(task["calls"]):
                try:
                    out[str(i)] = {"ok": tools.call(name, args)}
                except AegisError as e:
                    out[str(i)] = {"error": e.code, "status": e.status, "message": e.message}
            result(out)
            """;

    @Test
    void allowedCallsGoOutDeniedOnesNeverLeaveAndAllAreAudited() throws Exception {
        AtomicInteger hits = new AtomicInteger();
        HttpServer api = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0), 0);
        api.createContext("/", ex -> {
            hits.incrementAndGet();
            byte[] body = ("hello from api " + ex.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            ex.getResponseHeaders().add("X-Api", "yes");
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        api.start();
        int port = api.getAddress().getPort();
        Resolver dns = Resolver.of(Map.of("api.example.com", List.of(InetAddress.getByName("127.0.0.2")),
                "other.example.com", List.of(InetAddress.getByName("127.0.0.2"))));
        try (Node node = new Node(withResolver(dns))) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            // The test server is on loopback, which the proxy reaches only when an entry also names the IP.
            String egress = "  network: {egress: [\"api.example.com:" + port + "\", \"127.0.0.2:" + port + "\"]}\n";
            deploy(http, "fetcher", "permissions:\n  tools: [\"http.fetch\", \"mcp.*\"]\n" + egress);
            deploy(http, "nofetch", "permissions:\n  tools: [\"gmail.list_messages\"]\n" + egress);

            String url = "http://api.example.com:" + port + "/hello";
            JsonNode r = run(http, "fetcher", List.of(
                    List.of("http.fetch", Map.of("url", url)),
                    List.of("gmail.list_messages", Map.of("q", "is:unread")),
                    List.of("mcp.search", Map.of("q", "x")),
                    List.of("http.fetch", Map.of("url", "http://other.example.com:" + port + "/secret")),
                    List.of("http.fetch", Map.of("uri", url))));
            assertThat(r.path("list").size()).isOne();
            assertThat(r.path("list").get(0).path("name").asText()).isEqualTo("http.fetch");
            assertThat(r.path("list").get(0).path("input_schema").path("type").asText()).isEqualTo("object");
            JsonNode ok = r.path("0").path("ok");
            assertThat(ok.path("status").asInt()).as(r.toString()).isEqualTo(200);
            assertThat(ok.path("body").asText()).isEqualTo("hello from api /hello");
            assertThat(ok.path("headers").path("x-api").toString()).isEqualTo("[\"yes\"]");
            assertThat(r.path("1").path("error").asText()).isEqualTo("policy_denied");
            assertThat(r.path("1").path("status").asInt()).isEqualTo(403);
            assertThat(r.path("1").path("message").asText()).contains("gmail.list_messages").contains("http.fetch, mcp.*");
            assertThat(r.path("2").path("message").asText()).contains("no tool server offers it here");
            assertThat(r.path("3").path("error").asText()).as("the proxy refuses a host the manifest does not list").isEqualTo("policy_denied");
            assertThat(r.path("4").path("error").asText()).isEqualTo("invalid_request");
            assertThat(r.path("4").path("message").asText()).contains("arguments.uri");
            assertThat(hits.get()).as("only the allowed fetch reached the server").isEqualTo(1);

            // An agent whose manifest does not grant http.fetch: refused before anything leaves.
            JsonNode n = run(http, "nofetch", List.of(List.of("http.fetch", Map.of("url", url))));
            assertThat(n.path("0").path("error").asText()).isEqualTo("policy_denied");
            assertThat(n.path("0").path("message").asText()).contains("tool \"http.fetch\" denied").contains("gmail.list_messages");
            assertThat(n.path("list").size()).isZero();
            assertThat(hits.get()).isEqualTo(1);

            // Every call audited: tool, arguments' hash and size, decision, reason; allowed calls get their outcome and time.
            List<String> calls = new ArrayList<>();
            for (JsonNode rec : http.get("/v1/audit?action=tool.call&agent=fetcher").body().path("records")) {
                calls.add(rec.path("target").asText() + " " + rec.path("decision").asText());
                assertThat(rec.path("actor").asText()).startsWith("agent:i-");
                assertThat(rec.path("task").asText()).isNotBlank();
                assertThat(rec.path("details").path("args_sha256").asText()).hasSize(64);
                assertThat(rec.path("details").path("duration_ms").asText()).isNotBlank();
                if (rec.path("decision").asText().equals("deny")) assertThat(rec.path("reason").asText()).isNotBlank();
            }
            assertThat(calls).containsExactly("tool:http.fetch allow", "tool:gmail.list_messages deny", "tool:mcp.search deny",
                    "tool:http.fetch allow", "tool:http.fetch allow");
            JsonNode first = http.get("/v1/audit?action=tool.call&agent=fetcher").body().path("records").get(0).path("details");
            String args = Http.JSON.writeValueAsString(Map.of("url", url));
            assertThat(first.path("args_sha256").asText()).isEqualTo(Hashes.sha256(args));
            assertThat(first.path("args_bytes").asText()).isEqualTo(Integer.toString(args.length()));
            List<String> results = new ArrayList<>();
            for (JsonNode rec : http.get("/v1/audit?action=tool.result&agent=fetcher").body().path("records")) {
                results.add(rec.path("details").path("outcome").asText() + " " + rec.path("details").path("error").asText(""));
                assertThat(Double.parseDouble(rec.path("details").path("duration_ms").asText())).isPositive();
            }
            assertThat(results).containsExactly("ok ", "error policy_denied", "error invalid_request");
            JsonNode denied = http.get("/v1/audit?action=tool.call&agent=nofetch").body().path("records").get(0);
            assertThat(denied.path("decision").asText()).isEqualTo("deny");
            assertThat(http.get("/v1/audit?action=tool.result&agent=nofetch").body().path("records")).isEmpty();
            // The proxy audited the attempts it saw (one allowed, one refused).
            assertThat(http.get("/v1/audit?agent=fetcher&limit=1000").body().toString()).contains("other.example.com");
            // The task's tool results are remembered with it once it ends: the allowed fetch's answer is a tool_output memory.
            assertThat(node.memory().awaitIndexed(java.time.Duration.ofMinutes(2))).isTrue();
            JsonNode remembered = http.get("/v1/memory/search?q=hello+from+api&agent=fetcher&kind=tool_output").body().path("hits");
            assertThat(remembered).as(remembered.toString()).singleElement().satisfies(h -> {
                assertThat(h.path("text").asText()).startsWith("tool http.fetch(").contains("hello from api /hello");
                assertThat(h.path("success").asBoolean()).isTrue();
            });

            // What the check and its audit record cost, seen from the agent: tools.list writes no record, a denied call one.
            JsonNode bench = run(http, "nofetch", List.of(), 200);
            System.out.printf("agent API from a bubblewrap agent, 200 calls each: tools.list %.2f ms, denied tools.call "
                    + "(check + 1 fsync'd audit record) %.2f ms%n", bench.path("list_ms").asDouble(), bench.path("denied_ms").asDouble());
        } finally {
            api.stop(0);
        }
    }

    /**
     * The node's own proxy carries every fetch: without egress entries nothing goes out, and an allowed fetch that
     * reaches no server fails with {@code fetch_failed} (502) and the proxy's reason, never as a server's answer.
     */
    @Test
    void fetchesThatCannotGoOutSayWhy() throws Exception {
        int closed;
        try (var probe = new java.net.ServerSocket(0, 1, InetAddress.getByName("127.0.0.2"))) {
            closed = probe.getLocalPort();
        }
        Resolver dns = Resolver.of(Map.of("api.example.com", List.of(InetAddress.getByName("127.0.0.2"))));
        try (Node node = new Node(withResolver(dns))) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            deploy(http, "closed", "permissions:\n  tools: [\"http.fetch\"]\n  network: {egress: [\"api.example.com:" + closed
                    + "\", \"127.0.0.2:" + closed + "\"]}\n");
            deploy(http, "offline", "permissions:\n  tools: [\"http.fetch\"]\n");
            String url = "http://api.example.com:" + closed + "/";
            JsonNode r = run(http, "closed", List.of(List.of("http.fetch", Map.of("url", url))));
            assertThat(r.path("0").path("error").asText()).as(r.toString()).isEqualTo("fetch_failed");
            assertThat(r.path("0").path("status").asInt()).isEqualTo(502);
            assertThat(r.path("0").path("message").asText())
                    .startsWith("fetch " + url + ": cannot connect to api.example.com:" + closed + " (127.0.0.2): ");
            JsonNode o = run(http, "offline", List.of(List.of("http.fetch", Map.of("url", url))));
            assertThat(o.path("0").path("error").asText()).isEqualTo("policy_denied");
            assertThat(o.path("0").path("message").asText()).contains("api.example.com:" + closed + " is not in permissions.network.egress");
            List<String> outcomes = new ArrayList<>();
            for (JsonNode rec : http.get("/v1/audit?action=tool.result").body().path("records"))
                outcomes.add(rec.path("agent").asText() + " " + rec.path("details").path("error").asText());
            assertThat(outcomes).containsExactlyInAnyOrder("closed fetch_failed", "offline policy_denied");
        }
    }

    private Node.Config withResolver(Resolver dns) {
        Node.Config config = Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of());
        return config.withSecurity(config.security().withEgress(EgressConfig.defaults().withResolver(dns)));
    }

    private void deploy(Http http, String name, String yamlExtra) throws Exception {
        Path d = Files.createDirectories(dir.resolve("agents/" + name));
        Files.writeString(d.resolve("agent.yaml"), "name: " + name + "\nversion: 1.0.0\nruntime: bubblewrap\n"
                + "entrypoint: [\"python3\", \"agent.py\"]\n" + yamlExtra);
        Files.writeString(d.resolve("agent.py"), CALLER);
        Http.Response r = http.upload("/v1/agents", TarGz.pack(d));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
    }

    private static JsonNode run(Http http, String agent, List<?> calls) throws Exception {
        return run(http, agent, calls, 0);
    }

    private static JsonNode run(Http http, String agent, List<?> calls, int bench) throws Exception {
        JsonNode t = http.post("/v1/tasks", Map.of("agent", agent, "wait", true, "input", Map.of("calls", calls, "bench", bench))).body();
        assertThat(t.path("state").asText()).as(t.toString()).isEqualTo("succeeded");
        return t.path("result");
    }
}
