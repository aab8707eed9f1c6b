package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.spec.McpSchema;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * AEGIS as an MCP server, driven by the official Java SDK's client over both transports against a real node: Streamable
 * HTTP on {@code /mcp} and {@code aegis mcp} over stdio (a child JVM). The same checks run on both: the tool list, a
 * real agent task run and read back with its logs, memory search, argument errors that name the argument, a reader
 * that may read but not run, and another tenant that sees nothing.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class McpServerTest {
    private static final String TEXT = "Quarterly lighthouse maintenance finished early. The lighthouse lamp was replaced. "
            + "Keepers logged calm seas all week.";

    @TempDir
    static Path dir;
    Node node;
    String admin;
    String reader;
    String acme;

    @BeforeAll
    void start() throws Exception {
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()));
        admin = node.firstAdminKey().orElseThrow();
        reader = node.keys().create("default", "reader").plaintext();
        acme = node.keys().create("acme", "admin").plaintext();
        assertThat(new Http(node.url(), admin).upload("/v1/agents", TarGz.pack(examples.resolve("summarizer"))).status()).isEqualTo(201);
    }

    @AfterAll
    void stop() {
        node.close();
    }

    McpSyncClient http(String key) {
        var transport = HttpClientStreamableHttpTransport.builder(node.url()).endpoint("/mcp")
                .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + key)).build();
        McpSyncClient c = McpClient.sync(transport).requestTimeout(Duration.ofSeconds(90)).build();
        c.initialize();
        return c;
    }

    /** {@code aegis mcp} in a child JVM on this test's class path, as an MCP host would start it. */
    McpSyncClient stdio(String key) {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        var params = ServerParameters.builder(java).args("--enable-native-access=ALL-UNNAMED", "-cp", System.getProperty("java.class.path"),
                "dev.aegis.cli.Main", "mcp", "--url", node.url(), "--key", key).build();
        McpSyncClient c = McpClient.sync(new StdioClientTransport(params, McpJsonDefaults.getMapper()))
                .requestTimeout(Duration.ofSeconds(90)).initializationTimeout(Duration.ofSeconds(60)).build();
        c.initialize();
        return c;
    }

    @Test
    void overStreamableHttp() throws Exception {
        try (McpSyncClient a = http(admin); McpSyncClient r = http(reader); McpSyncClient other = http(acme)) {
            everything(a, r, other);
        }
    }

    @Test
    void overStdio() throws Exception {
        try (McpSyncClient a = stdio(admin); McpSyncClient r = stdio(reader); McpSyncClient other = stdio(acme)) {
            everything(a, r, other);
        }
    }

    private void everything(McpSyncClient admin, McpSyncClient reader, McpSyncClient acme) throws InterruptedException {
        List<McpSchema.Tool> tools = admin.listTools().tools();
        assertThat(tools).extracting(McpSchema.Tool::name)
                .containsExactly("run_task", "get_task", "task_logs", "cancel_task", "search_memory", "list_agents");
        assertThat(tools.getFirst().inputSchema().get("required")).isEqualTo(List.of("agent"));

        assertThat(structured(call(admin, "list_agents", Map.of())).get("agents").toString()).contains("summarizer");

        McpSchema.CallToolResult run = call(admin, "run_task", Map.of("agent", "summarizer", "input", Map.of("text", TEXT, "sentences", 1)));
        assertThat(run.isError()).as(text(run)).isFalse();
        Map<String, Object> task = structured(run);
        assertThat(task.get("state")).isEqualTo("succeeded");
        assertThat(task.get("result").toString()).contains("lighthouse");
        String id = (String) task.get("id");

        Map<String, Object> again = structured(call(admin, "get_task", Map.of("id", id)));
        assertThat(again.get("id")).isEqualTo(id);
        assertThat(again.get("result")).isEqualTo(task.get("result"));
        assertThat(call(admin, "task_logs", Map.of("id", id)).isError()).isFalse();

        assertThat(node.memory().awaitIndexed(Duration.ofSeconds(120))).isTrue();
        McpSchema.CallToolResult found = call(admin, "search_memory", Map.of("query", "lighthouse lamp", "limit", 3));
        assertThat(text(found)).contains("lighthouse");

        // Arguments: each error names the argument, whether this layer or the API found it.
        assertError(call(admin, "run_task", Map.of()), "invalid_request", "agent");
        assertError(call(admin, "run_task", Map.of("agent", "summarizer", "wait", "yes")), "invalid_request", "wait");
        assertError(call(admin, "run_task", Map.of("agent", "summarizer", "colour", "red")), "invalid_request", "colour");
        assertError(call(admin, "run_task", Map.of("agent", "summarizer", "timeout_ms", 0)), "invalid_request", "timeout_ms");
        assertError(call(admin, "search_memory", Map.of("query", "x", "limit", 1000)), "invalid_request", "limit");
        assertError(call(admin, "get_task", Map.of("id", "no-such-task")), "not_found", null);
        assertThatThrownBy(() -> call(admin, "no_such_tool", Map.of())).hasMessageContaining("Unknown tool");

        // A reader reads but may not run or cancel.
        assertError(call(reader, "run_task", Map.of("agent", "summarizer")), "forbidden", null);
        assertError(call(reader, "cancel_task", Map.of("id", id)), "forbidden", null);
        assertThat(structured(call(reader, "get_task", Map.of("id", id))).get("state")).isEqualTo("succeeded");

        // Another tenant sees none of it.
        assertError(call(acme, "get_task", Map.of("id", id)), "not_found", null);
        assertError(call(acme, "task_logs", Map.of("id", id)), "not_found", null);
        assertThat(structured(call(acme, "list_agents", Map.of())).get("agents")).isEqualTo(List.of());
        assertThat(text(call(acme, "search_memory", Map.of("query", "lighthouse lamp")))).doesNotContain("lighthouse");
        assertError(call(acme, "run_task", Map.of("agent", "summarizer")), "not_found", null);
    }

    @Test
    void theEndpointNeedsAValidKey() throws Exception {
        String init = "{\"jsonrpc\": \"2.0\", \"id\": 1, \"method\": \"initialize\", \"params\": {\"protocolVersion\": \"2025-06-18\", "
                + "\"capabilities\": {}, \"clientInfo\": {\"name\": \"t\", \"version\": \"1\"}}}";
        for (String key : new String[] {null, "aeg_live_000000000000_" + "0".repeat(64)}) {
            Http.Response r = new Http(node.url(), key).post("/mcp", init);
            assertThat(r.status()).isEqualTo(401);
            assertThat(r.body().path("error").path("code").asText()).isEqualTo("unauthorized");
        }
        assertThatThrownBy(() -> http("aeg_live_000000000000_" + "0".repeat(64))).isInstanceOf(RuntimeException.class);
        Http ok = new Http(node.url(), admin);
        assertThat(ok.post("/mcp", init).body().path("result").path("serverInfo").path("name").asText()).isEqualTo("aegis");
        Http.Response bad = ok.post("/mcp", "{\"jsonrpc\": \"2.0\", \"id\": 1}");
        assertThat(bad.status()).isEqualTo(400);
        assertThat(bad.body().path("error").path("field").asText()).isEqualTo("method");
        Http.Response version = ok.send(ok.builder("/mcp").header("Content-Type", "application/json").header("MCP-Protocol-Version", "1999-01-01")
                .POST(HttpRequest.BodyPublishers.ofString(init)));
        assertThat(version.status()).isEqualTo(400);
        assertThat(version.body().path("error").path("field").asText()).isEqualTo("MCP-Protocol-Version");
        assertThat(ok.post("/mcp", "{\"jsonrpc\": \"2.0\", \"method\": \"notifications/initialized\"}").status()).isEqualTo(202);
        // Messages of the right shape with wrong insides are JSON-RPC errors (or 400), never a failure of the server.
        for (String params : List.of("{\"name\": 5}", "{\"name\": \"run_task\", \"arguments\": \"x\"}", "{\"name\": \"run_task\", \"arguments\": [1]}",
                "{}", "{\"name\": \"run_task\", \"arguments\": {\"agent\": {\"deep\": [1, 2]}}}")) {
            Http.Response r = ok.post("/mcp", "{\"jsonrpc\": \"2.0\", \"id\": \"x\", \"method\": \"tools/call\", \"params\": " + params + "}");
            assertThat(r.status()).as(params + " -> " + r.raw().body()).isIn(200, 400);
            if (r.status() == 200) assertThat(r.body().has("error") || r.body().path("result").path("isError").asBoolean()).as(r.raw().body()).isTrue();
        }
        for (String method : List.of("initialize", "resources/list", "nope", "tools/list")) {
            Http.Response r = ok.post("/mcp", "{\"jsonrpc\": \"2.0\", \"id\": 7, \"method\": \"" + method + "\", \"params\": {\"x\": 1}}");
            assertThat(r.status()).as(method + " -> " + r.raw().body()).isIn(200, 400);
        }
        // A web page elsewhere may not drive it (DNS rebinding); one served from this machine may.
        for (String origin : List.of("http://evil.example.com", "http://127.0.0.1.evil.example.com", "null")) {
            Http.Response r = ok.send(ok.builder("/mcp").header("Content-Type", "application/json").header("Origin", origin)
                    .POST(HttpRequest.BodyPublishers.ofString(init)));
            assertThat(r.status()).as(origin).isEqualTo(403);
            assertThat(r.body().path("error").path("field").asText()).isEqualTo("Origin");
        }
        for (String origin : List.of("http://localhost:3000", "http://127.0.0.1:" + node.url().replaceAll(".*:", ""), "https://[::1]"))
            assertThat(ok.send(ok.builder("/mcp").header("Content-Type", "application/json").header("Origin", origin)
                    .POST(HttpRequest.BodyPublishers.ofString(init))).status()).as(origin).isEqualTo(200);
    }

    private static McpSchema.CallToolResult call(McpSyncClient c, String tool, Map<String, Object> args) {
        return c.callTool(new McpSchema.CallToolRequest(tool, args));
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> structured(McpSchema.CallToolResult r) {
        assertThat(r.isError()).as(text(r)).isFalse();
        return (Map<String, Object>) r.structuredContent();
    }

    private static String text(McpSchema.CallToolResult r) {
        return ((McpSchema.TextContent) r.content().getFirst()).text();
    }

    @SuppressWarnings("unchecked")
    private static void assertError(McpSchema.CallToolResult r, String code, String field) {
        assertThat(r.isError()).as(text(r)).isTrue();
        Map<String, Object> error = (Map<String, Object>) ((Map<String, Object>) r.structuredContent()).get("error");
        assertThat(error.get("code")).as(text(r)).isEqualTo(code);
        if (field != null) assertThat(error.get("field")).as(text(r)).isEqualTo(field);
        assertThat(text(r)).startsWith(code + ": ");
    }
}
