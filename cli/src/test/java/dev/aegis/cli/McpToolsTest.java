package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.HostFolders;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tool calls from real agents to real MCP servers from npm (installed by tools/mcp-servers.sh), each running in its
 * own bubblewrap sandbox: listing shows only granted tools with their schemas; denied calls, schema violations,
 * oversized results, a hanging and a crashing server each give a clear error, are audited, and affect nothing else.
 */
class McpToolsTest {
    static Path servers;

    @TempDir
    Path dir;

    @BeforeAll
    static void install() throws Exception {
        servers = Npm.install("mcp-servers.sh");
    }

    static String server(String name, String pkg, String... args) {
        StringBuilder cmd = new StringBuilder("[\"node\", \"/opt/mcp/node_modules/@modelcontextprotocol/" + pkg + "/dist/index.js\"");
        for (String a : args) cmd.append(", \"").append(a).append('"');
        return "{\"name\": \"" + name + "\", \"command\": " + cmd + "], \"permissions\": {\"filesystem\": {\"read\": [\"/opt/mcp\", \"/data\"]}},"
                + " \"resources\": {\"memory\": \"512Mi\", \"pids\": 128, \"timeout\": \"4s\"}}";
    }

    @Test
    void agentsCallRealMcpServersInTheirOwnSandboxes() throws Exception {
        Path data = Files.createDirectories(dir.resolve("inbox"));
        Files.writeString(data.resolve("today.eml"), "Subject: hello\n\nlunch at noon\n");
        Files.writeString(data.resolve("big.txt"), "x".repeat(2 << 20));
        Node.Config config = Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of());
        config = config.withSecurity(config.security().withFolders(List.of(
                HostFolders.Approved.parse(servers + "=/opt/mcp", false), HostFolders.Approved.parse(data + "=/data", false))));
        try (Node node = new Node(config)) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            assertThat(node.tools().add("default", server("fs", "server-filesystem", "/data")).created()).isTrue();
            node.tools().add("default", server("everything", "server-everything"));
            node.tools().add("default", server("memory", "server-memory"));
            node.tools().add("default", "{\"name\": \"crashy\", \"command\": [\"/bin/sh\", \"-c\", \"echo boom >&2; exit 3\"]}");
            node.tools().add("other", server("fs", "server-filesystem", "/data"));
            assertThat(node.tools().test("default", "memory")).extracting(t -> t.name()).contains("memory.create_entities");
            assertThatThrownBy(() -> node.tools().test("default", "crashy")).isInstanceOf(AegisException.class)
                    .hasMessageContaining("crashy").extracting(e -> ((AegisException) e).code()).isEqualTo("tool_server_failed");

            deploy(http, dir, "mailer", "permissions:\n  tools: [\"fs.read_text_file\", \"fs.list_directory\", \"everything.*\", \"crashy.*\"]\n");
            JsonNode r = run(http, "mailer", List.of(
                    List.of("fs.list_directory", Map.of("path", "/data")),
                    List.of("fs.read_text_file", Map.of("path", "/data/today.eml")),
                    List.of("fs.write_file", Map.of("path", "/data/x", "content", "no")),
                    List.of("fs.read_text_file", Map.of("pathx", "/data/today.eml")),
                    List.of("everything.get-sum", Map.of("a", "one", "b", 2)),
                    List.of("fs.read_text_file", Map.of("path", "/data/big.txt")),
                    List.of("everything.trigger-long-running-operation", Map.of("duration", 30, "steps", 1)),
                    List.of("everything.get-sum", Map.of("a", 40, "b", 2)),
                    List.of("crashy.anything", Map.of())));
            List<String> names = new ArrayList<>();
            r.path("list").forEach(t -> names.add(t.path("name").asText()));
            assertThat(names).contains("fs.read_text_file", "fs.list_directory", "everything.echo", "everything.get-sum")
                    .doesNotContain("fs.write_file", "memory.create_entities");
            assertThat(r.path("list").get(names.indexOf("fs.read_text_file")).path("input_schema").path("properties").has("path")).isTrue();
            assertThat(r.path("0").path("ok").toString()).as(r.toString()).contains("today.eml");
            assertThat(r.path("1").path("ok").path("content").get(0).path("text").asText()).contains("lunch at noon");
            assertThat(r.path("2").path("error").asText()).isEqualTo("policy_denied");
            assertThat(r.path("3").path("error").asText()).isEqualTo("invalid_request");
            assertThat(r.path("3").path("message").asText()).contains("arguments.path").contains("fs.read_text_file");
            assertThat(r.path("4").path("error").asText()).isEqualTo("invalid_request");
            assertThat(r.path("4").path("message").asText()).contains("arguments.a");
            assertThat(r.path("5").path("error").asText()).isEqualTo("tool_result_too_large");
            assertThat(r.path("6").path("error").asText()).isEqualTo("timeout");
            assertThat(r.path("6").path("status").asInt()).isEqualTo(504);
            assertThat(r.path("7").path("ok").toString()).as("the hung server was restarted").contains("42");
            assertThat(r.path("8").path("error").asText()).as("a crashing server").isEqualTo("tool_server_failed");
            assertThat(r.path("8").path("status").asInt()).isEqualTo(502);
            assertThat(r.path("8").path("message").asText()).contains("crashy");

            // Audited: every call's decision; only allowed, schema-valid calls reached a server and have a result record.
            List<String> calls = new ArrayList<>();
            for (JsonNode rec : http.get("/v1/audit?action=tool.call&agent=mailer").body().path("records"))
                calls.add(rec.path("target").asText() + " " + rec.path("decision").asText());
            assertThat(calls).containsExactly("tool:fs.list_directory allow", "tool:fs.read_text_file allow", "tool:fs.write_file deny",
                    "tool:fs.read_text_file deny", "tool:everything.get-sum deny", "tool:fs.read_text_file allow",
                    "tool:everything.trigger-long-running-operation allow", "tool:everything.get-sum allow", "tool:crashy.anything deny");
            List<String> results = new ArrayList<>();
            for (JsonNode rec : http.get("/v1/audit?action=tool.result&agent=mailer").body().path("records")) {
                results.add(rec.path("details").path("outcome").asText() + " " + rec.path("details").path("error").asText(""));
                assertThat(rec.path("details").path("duration_ms").asText()).isNotBlank();
            }
            assertThat(results).containsExactly("ok ", "ok ", "error tool_result_too_large", "error timeout", "ok ");
            assertThat(node.tools().list("default")).hasSize(4);
            node.tools().remove("default", "crashy");
            assertThatThrownBy(() -> node.tools().remove("default", "crashy")).hasMessageContaining("not registered");
            assertThat(node.tools().list("other")).hasSize(1);
        }
    }

    @Test
    void registrationsAreCheckedField() throws IOException {
        Node.Config config = Node.Config.embedded(dir.resolve("data"));
        try (Node node = new Node(config)) {
            assertThatThrownBy(() -> node.tools().add("default", "{\"name\": \"Bad.Name\", \"command\": [\"x\"]}")).hasMessageContaining("name");
            assertThatThrownBy(() -> node.tools().add("default", "{\"name\": \"a\"}")).hasMessageContaining("command");
            assertThatThrownBy(() -> node.tools().add("default", "{\"name\": \"a\", \"command\": [\"x\"], \"resources\": {\"memory\": \"12XB\"}}"))
                    .hasMessageContaining("resources.memory");
            assertThatThrownBy(() -> node.tools().add("default", "{\"name\": \"a\", \"url\": \"http://127.0.0.1:9/mcp\"}"))
                    .hasMessageContaining("permissions.network.egress");
            assertThatThrownBy(() -> node.tools().add("default", "{\"name\": \"a\", \"command\": [\"x\"], \"secrets\": []}"))
                    .hasMessageContaining("secrets: unknown field");
        }
    }

    static void deploy(Http http, Path dir, String name, String yamlExtra) throws Exception {
        Path d = Files.createDirectories(dir.resolve("agents/" + name));
        Files.writeString(d.resolve("agent.yaml"), "name: " + name + "\nversion: 1.0.0\nruntime: bubblewrap\n"
                + "entrypoint: [\"python3\", \"agent.py\"]\nresources: {timeout: 60s}\n" + yamlExtra);
        Files.writeString(d.resolve("agent.py"), ToolsTest.CALLER);
        Http.Response r = http.upload("/v1/agents", TarGz.pack(d));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
    }

    static JsonNode run(Http http, String agent, List<?> calls) throws Exception {
        JsonNode t = http.post("/v1/tasks", Map.of("agent", agent, "wait", true, "input", Map.of("calls", calls, "bench", 0))).body();
        assertThat(t.path("state").asText()).as(() -> t + "\nlogs: " + logs(http, t.path("id").asText())).isEqualTo("succeeded");
        return t.path("result");
    }

    private static String logs(Http http, String id) {
        try {
            return http.get("/v1/tasks/" + id + "/logs").body().toString();
        } catch (Exception e) {
            return e.toString();
        }
    }
}
