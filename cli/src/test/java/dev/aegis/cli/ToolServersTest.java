package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.HostFolders;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Managing MCP tool servers through {@code /v1/tools/servers} and {@code aegis tools}, against a live node running
 * real MCP servers from npm in their own sandboxes: roles, bad registrations (named field, nothing changed), tenants
 * kept apart, a crashing server's clear error, and a flooding server's stderr kept to a trickle in the server log.
 */
class ToolServersTest {
    @TempDir
    Path dir;

    @BeforeAll
    static void install() throws Exception {
        McpToolsTest.install(); // the npm servers, into McpToolsTest.servers
    }

    static final String FS = "{\"name\": \"fs\", \"command\": [\"node\", \"/opt/mcp/node_modules/@modelcontextprotocol/server-filesystem/dist/index.js\","
            + " \"/data\"], \"permissions\": {\"filesystem\": {\"read\": [\"/opt/mcp\", \"/data\"]}}, \"resources\": {\"memory\": \"512Mi\","
            + " \"pids\": 128, \"timeout\": \"10s\"}}";

    private Node node() throws Exception {
        Path data = Files.createDirectories(dir.resolve("inbox"));
        Files.writeString(data.resolve("today.eml"), "Subject: hello\n\nlunch at noon\n");
        Node.Config config = Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of());
        return new Node(config.withSecurity(config.security().withFolders(List.of(
                HostFolders.Approved.parse(McpToolsTest.servers + "=/opt/mcp", false), HostFolders.Approved.parse(data + "=/data", false)))));
    }

    @Test
    void rolesRegistrationsTenantsAndTestsOverRest() throws Exception {
        try (Node node = node()) {
            Http admin = new Http(node.url(), node.firstAdminKey().orElseThrow());
            Http deployer = new Http(node.url(), node.keys().create("default", "deployer").plaintext());
            Http runner = new Http(node.url(), node.keys().create("default", "runner").plaintext());
            Http reader = new Http(node.url(), node.keys().create("default", "reader").plaintext());

            Http.Response created = deployer.post("/v1/tools/servers", FS);
            assertThat(created.status()).as(created.body().toString()).isEqualTo(201);
            assertThat(deployer.post("/v1/tools/servers", FS).status()).as("replaced").isEqualTo(200);
            assertThat(runner.post("/v1/tools/servers", FS).status()).isEqualTo(403);
            assertThat(reader.post("/v1/tools/servers", FS).body().path("error").path("code").asText()).isEqualTo("forbidden");

            JsonNode fs = reader.get("/v1/tools/servers/fs").body();
            assertThat(fs.path("kind").asText()).isEqualTo("stdio");
            assertThat(fs.path("command").get(0).asText()).isEqualTo("node");
            assertThat(fs.path("url").isMissingNode()).isTrue();
            assertThat(fs.path("permissions").path("filesystem").path("read").toString()).isEqualTo("[\"/opt/mcp\",\"/data\"]");
            assertThat(fs.path("permissions").path("network").path("egress")).isEmpty();
            assertThat(fs.path("resources").path("timeout_ms").asLong()).isEqualTo(10_000);
            assertThat(fs.path("resources").path("memory_bytes").asLong()).isEqualTo(512L << 20);
            assertThat(fs.path("created_at").asText()).isNotBlank();
            assertThat(reader.get("/v1/tools/servers").body().path("servers")).singleElement().isEqualTo(fs);

            // Test: the server starts in its sandbox and lists its tools with their input schemas.
            assertThat(reader.post("/v1/tools/servers/fs/test", Map.of()).status()).isEqualTo(403);
            Http.Response tested = runner.post("/v1/tools/servers/fs/test", Map.of());
            assertThat(tested.status()).as(tested.body().toString()).isEqualTo(200);
            assertThat(tested.body().path("name").asText()).isEqualTo("fs");
            List<String> names = new ArrayList<>();
            tested.body().path("tools").forEach(t -> names.add(t.path("name").asText()));
            assertThat(names).contains("fs.read_text_file", "fs.list_directory", "fs.write_file");
            JsonNode read = tested.body().path("tools").get(names.indexOf("fs.read_text_file"));
            assertThat(read.path("description").asText()).isNotBlank();
            assertThat(read.path("input_schema").path("properties").has("path")).isTrue();
            assertThat(read.path("input_schema").path("required").toString()).contains("path");

            // Bad registrations name the field and what is allowed, and change nothing.
            String before = admin.get("/v1/tools/servers").body().toString();
            bad(admin, "{\"name\": \"x\", \"command\": [\"x\"], \"env\": {}}", "env", "unknown field");
            bad(admin, "{\"name\": \"Bad.Name\", \"command\": [\"x\"]}", "name", "does not match");
            bad(admin, "{\"command\": [\"x\"]}", "name", "is required");
            bad(admin, "{\"name\": \"x\", \"command\": [\"x\"], \"url\": \"http://127.0.0.1:9/mcp\"}", "command", "exactly one of command");
            bad(admin, "{\"name\": \"x\"}", "command", "exactly one of command");
            bad(admin, "{\"name\": \"x\", \"command\": []}", "command", "has 0 items; give at least 1 (a stdio server's argv");
            bad(admin, "{\"name\": \"x\", \"url\": \"ftp://127.0.0.1/mcp\"}", "url", "not an http:// or https:// URL");
            bad(admin, "{\"name\": \"x\", \"command\": [\"x\"], \"resources\": {\"memory\": \"12XB\"}}", "resources.memory", "12XB");
            bad(admin, "{\"name\": \"x\", \"command\": [\"x\"], \"permissions\": {\"tools\": [\"a.b\"]}}", "permissions.tools", "unknown field");
            bad(admin, "{\"name\": \"x\", \"command\": [\"x\"], \"permissions\": {\"filesystem\": {\"read\": [\"relative\"]}}}",
                    "permissions.filesystem.read[0]", "\"relative\" is not an absolute path");
            Http.Response ungranted = admin.post("/v1/tools/servers", "{\"name\": \"web\", \"url\": \"http://127.0.0.1:9/mcp\"}");
            assertThat(ungranted.status()).isEqualTo(403);
            assertThat(ungranted.body().path("error").path("code").asText()).isEqualTo("policy_denied");
            assertThat(ungranted.body().path("error").path("message").asText()).startsWith("url: 127.0.0.1:9 is not granted")
                    .contains("permissions.network.egress");
            assertThat(admin.get("/v1/tools/servers").body().toString()).isEqualTo(before);

            // A server that crashes at start: a clear 502, naming it; the next test starts it afresh and fails the same way.
            assertThat(deployer.post("/v1/tools/servers", "{\"name\": \"crashy\", \"command\": [\"/bin/sh\", \"-c\", \"echo boom >&2; exit 3\"]}")
                    .status()).isEqualTo(201);
            for (int i = 0; i < 2; i++) {
                Http.Response crashed = runner.post("/v1/tools/servers/crashy/test", Map.of());
                assertThat(crashed.status()).as(crashed.body().toString()).isEqualTo(502);
                assertThat(crashed.body().path("error").path("code").asText()).isEqualTo("tool_server_failed");
                assertThat(crashed.body().path("error").path("message").asText()).contains("tool server crashy").contains("handshake")
                        .contains("exited");
            }
            assertThat(runner.post("/v1/tools/servers/nope/test", Map.of()).status()).isEqualTo(404);

            // Another tenant sees none of it, cannot test or remove it, and its own "fs" is its own.
            String acmeKey = node.keys().create("acme", "admin").plaintext();
            Http acme = new Http(node.url(), acmeKey);
            assertThat(acme.get("/v1/tools/servers").body().path("servers")).isEmpty();
            assertThat(acme.get("/v1/tools/servers/fs").status()).isEqualTo(404);
            assertThat(acme.post("/v1/tools/servers/fs/test", Map.of()).status()).isEqualTo(404);
            assertThat(acme.send(acme.builder("/v1/tools/servers/fs").DELETE()).status()).isEqualTo(404);
            assertThat(acme.post("/v1/tools/servers", "{\"name\": \"fs\", \"command\": [\"/bin/true\"]}").status()).isEqualTo(201);
            assertThat(admin.get("/v1/tools/servers/fs").body()).isEqualTo(fs);
            assertThat(node.tools().list("acme")).singleElement().extracting(s -> s.command()).isEqualTo(List.of("/bin/true"));

            // Removal: writers only; then gone, and a second removal is 404.
            assertThat(runner.send(runner.builder("/v1/tools/servers/fs").DELETE()).status()).isEqualTo(403);
            Http.Response removed = deployer.send(deployer.builder("/v1/tools/servers/fs").DELETE());
            assertThat(removed.status()).isEqualTo(204);
            assertThat(removed.raw().body()).isEmpty();
            assertThat(admin.send(admin.builder("/v1/tools/servers/fs").DELETE()).status()).isEqualTo(404);
            assertThat(admin.get("/v1/tools/servers/fs").status()).isEqualTo(404);
            assertThat(node.tools().list("acme")).hasSize(1);

            // Audited, naming the tenant and the key that did it (the platform admin sees every tenant's records).
            String deployerId = "key:" + node.keys().list("default").stream().filter(k -> k.role().equals("deployer")).findFirst().orElseThrow().id();
            List<String> audit = new ArrayList<>();
            for (JsonNode r : admin.get("/v1/audit?limit=500").body().path("records"))
                if (r.path("action").asText().startsWith("tool_server."))
                    audit.add(r.path("tenant").asText() + " " + r.path("action").asText() + " " + r.path("target").asText() + " "
                            + r.path("actor").asText());
            assertThat(audit).containsExactly("default tool_server.add tool_server:fs " + deployerId,
                    "default tool_server.replace tool_server:fs " + deployerId, "default tool_server.add tool_server:crashy " + deployerId,
                    "acme tool_server.add tool_server:fs key:" + acmeKey.substring(9, 21), "default tool_server.remove tool_server:fs " + deployerId);
        }
    }

    private static void bad(Http http, String body, String field, String words) throws Exception {
        Http.Response r = http.post("/v1/tools/servers", body);
        assertThat(r.status()).as(body + " -> " + r.body()).isEqualTo(400);
        assertThat(r.body().path("error").path("field").asText()).as(body + " -> " + r.body()).isEqualTo(field);
        String message = r.body().path("error").path("message").asText();
        assertThat(message).as(body).startsWith(field + ": ").contains(words);
        assertThat(message.indexOf(field + ": ", 1)).as("the field is named once: " + message).isEqualTo(-1);
    }

    @Test
    void theCliAddsListsTestsAndRemoves() throws Exception {
        try (Node node = node()) {
            String[] conn = {"--url", node.url(), "--key", node.firstAdminKey().orElseThrow()};
            Path file = dir.resolve("fs.json");
            Files.writeString(file, FS);
            CliTest.Run added = CliTest.aegis(cat(conn, "tools", "add", file.toString()));
            assertThat(added.code()).as(added.err()).isZero();
            assertThat(added.out()).isEqualTo("registered fs (stdio); try it: aegis tools test fs\n");
            InputStream stdin = System.in;
            CliTest.Run piped;
            try {
                System.setIn(new ByteArrayInputStream(FS.replace("\"fs\"", "\"fs2\"").getBytes(StandardCharsets.UTF_8)));
                piped = CliTest.aegis(cat(conn, "tools", "add", "-"));
            } finally {
                System.setIn(stdin);
            }
            assertThat(piped.out()).as(piped.err()).startsWith("registered fs2 (stdio)");
            CliTest.Run flags = CliTest.aegis("tools", "add", conn[0], conn[1], conn[2], conn[3], "--name", "everything", "--read", "/opt/mcp",
                    "--timeout", "10s", "--", "node", "/opt/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js");
            assertThat(flags.out()).as(flags.err()).startsWith("registered everything (stdio)");
            CliTest.Run remote = CliTest.aegis(cat(conn, "tools", "add", "--name", "web", "--mcp-url", "http://127.0.0.1:9/mcp", "--egress", "127.0.0.1:9"));
            assertThat(remote.out()).as(remote.err()).startsWith("registered web (http)");

            CliTest.Run list = CliTest.aegis(cat(conn, "tools", "list"));
            assertThat(list.out().lines().toList()).hasSize(4).anySatisfy(l -> assertThat(l).startsWith("everything").contains("stdio")
                    .contains("node /opt/mcp/node_modules/@modelcontextprotocol/server-everything/dist/index.js"))
                    .anySatisfy(l -> assertThat(l).startsWith("web").contains("http").endsWith("http://127.0.0.1:9/mcp"));

            CliTest.Run test = CliTest.aegis(cat(conn, "tools", "test", "everything"));
            assertThat(test.code()).as(test.err()).isZero();
            assertThat(test.out()).startsWith("everything: ").contains("everything.echo(message*)").contains("everything.get-sum(a*, b*)");
            CliTest.Run json = CliTest.aegis(cat(conn, "tools", "test", "fs", "--json"));
            assertThat(Http.JSON.readTree(json.out()).path("tools").findValuesAsText("name")).contains("fs.read_text_file");

            // Bad input: the server's words, exit code 2, nothing registered.
            CliTest.Run bad = CliTest.aegis("tools", "add", conn[0], conn[1], conn[2], conn[3], "--name", "both", "--mcp-url", "http://127.0.0.1:9/mcp",
                    "--", "node", "x.js");
            assertThat(bad.code()).isEqualTo(2);
            assertThat(bad.err()).contains("command: give exactly one of command").contains("HTTP 400");
            CliTest.Run neither = CliTest.aegis(cat(conn, "tools", "add"));
            assertThat(neither.code()).isEqualTo(2);
            assertThat(neither.err()).contains("give one registration file");
            assertThat(CliTest.aegis(cat(conn, "tools", "add", dir.resolve("missing.json").toString())).err()).contains("no such file");
            assertThat(CliTest.aegis(cat(conn, "tools", "list")).out().lines()).hasSize(4);

            assertThat(CliTest.aegis(cat(conn, "tools", "remove", "fs2")).out()).isEqualTo("removed fs2\n");
            CliTest.Run again = CliTest.aegis(cat(conn, "tools", "remove", "fs2"));
            assertThat(again.code()).isEqualTo(2);
            assertThat(again.err()).contains("tool server \"fs2\" is not registered").contains("HTTP 404");
            assertThat(node.tools().list("default")).extracting(s -> s.name()).containsExactly("everything", "fs", "web");
        }
    }

    /**
     * A server that floods stderr (with terminal escapes and an endless line) while never answering: the test fails at
     * its timeout, and the server log got its lines cut, escaped and at most 20 a second.
     */
    @Test
    void aFloodingServerFailsClearlyAndTricklesIntoTheServerLog() throws Exception {
        try (Node node = node()) {
            String[] conn = {"--url", node.url(), "--key", node.firstAdminKey().orElseThrow()};
            String flood = "s=yyyyyyyyyy; s=$s$s$s$s$s$s$s$s$s$s; s=$s$s$s$s$s$s$s$s$s$s; s=$s$s$s$s$s$s$s$s$s$s; echo \"$s\" >&2; "
                    + "i=0; while :; do i=$((i+1)); printf 'flood %d \\033[31mred\\n' $i >&2; done";
            assertThat(node.tools().add("default", Http.JSON.writeValueAsString(Map.of("name", "flood",
                    "command", List.of("/bin/sh", "-c", flood), "resources", Map.of("timeout", "2s")))).created()).isTrue();
            long start = System.nanoTime();
            CliTest.Run test = CliTest.aegis(cat(conn, "tools", "test", "flood"));
            long seconds = (System.nanoTime() - start) / 1_000_000_000L;
            assertThat(test.code()).isEqualTo(2);
            assertThat(test.err()).contains("tool server flood did not complete the MCP handshake").contains("HTTP 502");
            List<String> logged = test.err().lines().filter(l -> l.contains("dev.aegis.mcp.server") && l.contains("tool server default/flood")).toList();
            assertThat(logged).as(test.err()).isNotEmpty();
            assertThat(logged.size()).as(String.join("\n", logged)).isLessThanOrEqualTo(20 * (int) (seconds + 2) + 1);
            assertThat(logged).anySatisfy(l -> assertThat(l).contains("yyyyyyyyyy… [10000 chars]"));
            assertThat(logged).allSatisfy(l -> assertThat(l.length()).isLessThan(2_200));
            assertThat(logged).anySatisfy(l -> assertThat(l).contains("flood ").contains("\\u001b[31mred"));
            assertThat(String.join("\n", logged)).doesNotContain("\u001b");
            assertThat(logged).anySatisfy(l -> assertThat(l).contains("tool server default/flood ended: the tool server was stopped"));
            assertThat(logged).anySatisfy(l -> assertThat(l).containsPattern("\\[\\d+ earlier lines dropped: more than 20 a second]"));
        }
    }

    private static String[] cat(String[] conn, String... args) {
        String[] r = new String[args.length + conn.length];
        System.arraycopy(args, 0, r, 0, args.length);
        System.arraycopy(conn, 0, r, args.length, conn.length);
        return r;
    }
}
