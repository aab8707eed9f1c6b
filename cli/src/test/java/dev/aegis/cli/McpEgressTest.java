package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.aegis.core.AegisException;
import dev.aegis.core.HostFolders;
import dev.aegis.security.EgressConfig;
import dev.aegis.security.Resolver;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * MCP tool servers' network traffic goes through the node's egress proxy under each server's own grant, audited as
 * {@code tool_server:<name>}: a remote Streamable-HTTP server (the npm {@code server-everything} on 127.0.0.5) is
 * reached by AEGIS's session through the proxy, a URL not granted is refused at registration, a granted name that
 * resolves to a loopback address is refused by the proxy at the first call; a stdio server with an egress grant
 * fetches a local server through the proxy socket in its sandbox, one without cannot. Servers that flood (a huge
 * message, megabytes of non-JSON lines or of stderr, a remote server's huge answer) fail clearly and leave the
 * other servers and the node working.
 */
class McpEgressTest {
    /** A stdio MCP server (stdlib Python): {@code fetch} GETs a URL with urllib (which honours HTTP_PROXY), {@code flood} floods. */
    static final String SERVER = """
            import json, os, sys, urllib.request
            def send(m):
                sys.stdout.write(json.dumps(m) + "\\n"); sys.stdout.flush()
            def text(t, error=False):
                return {"content": [{"type": "text", "text": t}], "isError": error}
            def call(name, args):
                if name == "fetch":
                    try:
                        return text(urllib.request.urlopen(args["url"], timeout=5).read().decode())
                    except Exception as e:
                        return text("%s: %s (HTTP_PROXY=%s)" % (type(e).__name__, e, os.environ.get("HTTP_PROXY", "")), True)
                kind = args["kind"]
                if kind == "huge":
                    return text("x" * (6 << 20))
                if kind == "noise":
                    for i in range(250000):
                        sys.stdout.write("log line %d: not json\\n" % i)
                elif kind == "stderr":
                    for i in range(20000):
                        sys.stderr.write("debug %d %s\\n" % (i, "y" * 400))
                    sys.stderr.flush()
                return text("flooded " + kind)
            schema = {"type": "object", "properties": {"url": {"type": "string"}, "kind": {"type": "string"}}}
            for line in sys.stdin:
                m = json.loads(line)
                if "id" not in m:
                    continue
                p = m.get("params", {})
                if m["method"] == "initialize":
                    r = {"protocolVersion": p["protocolVersion"], "capabilities": {"tools": {}}, "serverInfo": {"name": "py", "version": "1"}}
                elif m["method"] == "tools/list":
                    r = {"tools": [{"name": n, "description": n, "inputSchema": schema} for n in ("fetch", "flood")]}
                elif m["method"] == "tools/call":
                    r = call(p["name"], p.get("arguments", {}))
                else:
                    send({"jsonrpc": "2.0", "id": m["id"], "error": {"code": -32601, "message": "no " + m["method"]}})
                    continue
                send({"jsonrpc": "2.0", "id": m["id"], "result": r})
            """;

    @TempDir
    Path dir;

    @BeforeAll
    static void install() throws Exception {
        McpToolsTest.install();
    }

    @Test
    void remoteServersAreReachedThroughTheEgressProxyUnderTheirOwnGrant() throws Exception {
        InetAddress at = InetAddress.getByName("127.0.0.5");
        int port = freePort(at);
        ProcessBuilder pb = new ProcessBuilder("node", McpToolsTest.servers.resolve("node_modules/@modelcontextprotocol/server-everything/dist/index.js").toString(),
                "streamableHttp").redirectErrorStream(true).redirectOutput(dir.resolve("everything.log").toFile());
        pb.environment().put("PORT", Integer.toString(port));
        Process everything = pb.start();
        HttpServer flood = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.8"), 0), 0);
        AtomicInteger floodHits = new AtomicInteger();
        flood.createContext("/", ex -> {
            floodHits.incrementAndGet();
            ex.getRequestBody().readAllBytes();
            ex.getResponseHeaders().add("Content-Type", "application/json");
            ex.sendResponseHeaders(200, 0);
            byte[] chunk = "x".repeat(1 << 16).getBytes(StandardCharsets.US_ASCII);
            try (var out = ex.getResponseBody()) {
                for (int i = 0; i < 160; i++) out.write(chunk); // 10 MiB
            } catch (java.io.IOException e) {
                // the client hung up: what it should do
            }
        });
        flood.start();
        Resolver dns = Resolver.of(Map.of("mcp.example.com", List.of(InetAddress.getByName("127.0.0.6"))));
        Node.Config config = Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of());
        try (Node node = new Node(config.withSecurity(config.security().withEgress(EgressConfig.defaults().withResolver(dns))))) {
            awaitListening(everything, at, port);
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            String url = "http://127.0.0.5:" + port + "/mcp";
            node.tools().add("default", remote("remote", url, "127.0.0.5:" + port));
            assertThatThrownBy(() -> node.tools().add("default", remote("ungranted", url, "127.0.0.5:" + (port == 1 ? 2 : 1))))
                    .isInstanceOf(AegisException.class).hasMessageContaining("url").hasMessageContaining("127.0.0.5:" + port)
                    .hasMessageContaining("permissions.network.egress")
                    .extracting(e -> ((AegisException) e).code()).isEqualTo("policy_denied");
            assertThatThrownBy(() -> node.tools().add("default", remote("ungranted", "http://other.example.com:" + port + "/mcp",
                    "*.example.org:" + port))).hasMessageContaining("other.example.com");
            assertThat(node.tools().list("default")).extracting(s -> s.name()).containsExactly("remote");
            node.tools().add("default", remote("rebound", "http://mcp.example.com:" + port + "/mcp", "mcp.example.com:" + port));
            String floodAt = "127.0.0.8:" + flood.getAddress().getPort();
            node.tools().add("default", remote("flood", "http://" + floodAt + "/mcp", floodAt));

            assertThatThrownBy(() -> node.tools().test("default", "rebound")).isInstanceOf(AegisException.class)
                    .hasMessageContaining("egress proxy refused").hasMessageContaining("127.0.0.6")
                    .hasMessageContaining("loopback")
                    .extracting(e -> ((AegisException) e).code()).isEqualTo("tool_server_failed");
            assertThatThrownBy(() -> node.tools().test("default", "flood")).isInstanceOf(AegisException.class)
                    .hasMessageContaining("flood").hasMessageContaining("4194304").extracting(e -> ((AegisException) e).code()).isEqualTo("tool_server_failed");
            assertThat(floodHits.get()).isPositive();

            McpToolsTest.deploy(http, dir, "caller", "permissions:\n  tools: [\"remote.*\", \"rebound.*\", \"flood.*\"]\n");
            JsonNode r = McpToolsTest.run(http, "caller", List.of(
                    List.of("remote.echo", Map.of("message", "through the proxy")),
                    List.of("rebound.echo", Map.of("message", "x")),
                    List.of("flood.anything", Map.of()),
                    List.of("remote.get-sum", Map.of("a", 40, "b", 2))));
            List<String> names = new ArrayList<>();
            r.path("list").forEach(t -> names.add(t.path("name").asText()));
            assertThat(names).contains("remote.echo", "remote.get-sum").noneMatch(n -> n.startsWith("rebound.") || n.startsWith("flood."));
            assertThat(r.path("0").path("ok").toString()).as(r.toString()).contains("through the proxy");
            assertThat(r.path("1").path("error").asText()).as(r.toString()).isEqualTo("tool_server_failed");
            assertThat(r.path("1").path("message").asText()).contains("rebound").contains("egress proxy refused")
                    .contains("mcp.example.com resolves to loopback address 127.0.0.6");
            assertThat(r.path("2").path("error").asText()).as(r.toString()).isEqualTo("tool_server_failed");
            assertThat(r.path("2").path("message").asText()).contains("flood").contains("4194304");
            assertThat(r.path("3").path("ok").toString()).as("the others keep working: " + r).contains("42");

            // The proxy's audit: AEGIS's own connections to the remote server, with bytes, under the server's grant.
            List<JsonNode> allowed = new ArrayList<>(), denied = new ArrayList<>();
            for (JsonNode rec : http.get("/v1/audit?action=egress.request&agent=tool_server:remote").body().path("records"))
                (rec.path("decision").asText().equals("allow") ? allowed : denied).add(rec);
            for (JsonNode rec : http.get("/v1/audit?action=egress.request&agent=tool_server:rebound").body().path("records"))
                (rec.path("decision").asText().equals("allow") ? allowed : denied).add(rec);
            assertThat(allowed).isNotEmpty().allSatisfy(rec -> {
                assertThat(rec.path("target").asText()).isEqualTo("127.0.0.5:" + port);
                assertThat(rec.path("details").path("ip").asText()).isEqualTo("127.0.0.5");
                assertThat(rec.path("details").path("method").asText()).isIn("POST", "GET", "DELETE");
                assertThat(rec.path("actor").asText()).startsWith("agent:mcp-");
            });
            assertThat(allowed.stream().mapToLong(rec -> rec.path("details").path("bytes_up").asLong()).sum()).isPositive();
            assertThat(allowed.stream().mapToLong(rec -> rec.path("details").path("bytes_down").asLong()).sum()).isPositive();
            assertThat(denied).isNotEmpty().allSatisfy(rec -> {
                assertThat(rec.path("target").asText()).isEqualTo("mcp.example.com:" + port);
                assertThat(rec.path("reason").asText()).contains("127.0.0.6");
            });
            assertThat(http.get("/v1/agents").status()).as("the node still answers").isEqualTo(200);
        } finally {
            flood.stop(0);
            everything.destroy();
            everything.waitFor();
        }
    }

    @Test
    void stdioServersGetEgressOnlyWhenGrantedAndFloodsFailClearly() throws Exception {
        AtomicInteger hits = new AtomicInteger();
        HttpServer local = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.7"), 0), 0);
        local.createContext("/", ex -> {
            hits.incrementAndGet();
            byte[] body = "hello from 127.0.0.7".getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        local.start();
        int port = local.getAddress().getPort();
        Path code = Files.createDirectories(dir.resolve("code"));
        Files.writeString(code.resolve("server.py"), SERVER);
        Node.Config config = Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of());
        config = config.withSecurity(config.security().withFolders(List.of(
                HostFolders.Approved.parse(code + "=/opt/py", false), HostFolders.Approved.parse(McpToolsTest.servers + "=/opt/mcp", false),
                HostFolders.Approved.parse(Files.createDirectories(dir.resolve("empty")) + "=/data", false))));
        try (Node node = new Node(config)) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            node.tools().add("default", python("fetcher", "\"network\": {\"egress\": [\"127.0.0.7:" + port + "\"]}, "));
            node.tools().add("default", python("nofetch", ""));
            node.tools().add("default", python("flooder", ""));
            node.tools().add("default", McpToolsTest.server("everything", "server-everything"));
            McpToolsTest.deploy(http, dir, "caller", "permissions:\n  tools: [\"fetcher.*\", \"nofetch.*\", \"flooder.*\", \"everything.*\"]\n");
            String url = "http://127.0.0.7:" + port + "/x";
            // The operator's log (this process's stderr) gets a flooding server's stderr only up to the log cap.
            java.io.PrintStream stderr = System.err;
            CountingStream seen = new CountingStream();
            System.setErr(new java.io.PrintStream(seen, true, StandardCharsets.UTF_8));
            JsonNode r;
            try {
                r = McpToolsTest.run(http, "caller", List.of(
                        List.of("fetcher.fetch", Map.of("url", url)),
                        List.of("nofetch.fetch", Map.of("url", url)),
                        List.of("flooder.flood", Map.of("kind", "huge")),
                        List.of("everything.get-sum", Map.of("a", 1, "b", 2)),
                        List.of("flooder.flood", Map.of("kind", "noise")),
                        List.of("flooder.flood", Map.of("kind", "stderr")),
                        List.of("fetcher.fetch", Map.of("url", url)),
                        List.of("everything.get-sum", Map.of("a", 40, "b", 2))));
            } finally {
                System.setErr(stderr);
            }
            assertThat(seen.bytes).as("stderr shown of an 8 MB flood").isLessThan(1L << 20);
            assertThat(r.path("0").path("ok").toString()).as(r.toString()).contains("hello from 127.0.0.7");
            assertThat(r.path("1").path("ok").path("isError").asBoolean()).as(r.toString()).isTrue();
            assertThat(r.path("1").path("ok").toString()).as("no proxy in a sandbox without a grant").contains("HTTP_PROXY=)")
                    .doesNotContain("hello from");
            assertThat(r.path("2").path("error").asText()).as(r.toString()).isEqualTo("tool_server_failed");
            assertThat(r.path("2").path("message").asText()).contains("flooder").contains("over 4194304 bytes");
            assertThat(r.path("3").path("ok").toString()).as(r.toString()).contains("3");
            assertThat(r.path("4").path("error").asText()).as(r.toString()).isEqualTo("tool_server_failed");
            assertThat(r.path("4").path("message").asText()).contains("not JSON-RPC");
            assertThat(r.path("5").path("ok").toString()).as("stderr is the server's log: " + r).contains("flooded stderr");
            assertThat(r.path("6").path("ok").toString()).as(r.toString()).contains("hello from 127.0.0.7");
            assertThat(r.path("7").path("ok").toString()).as(r.toString()).contains("42");
            assertThat(hits.get()).as("only the granted server reached it").isEqualTo(2);

            List<String> egress = new ArrayList<>();
            for (JsonNode rec : http.get("/v1/audit?action=egress.request").body().path("records"))
                egress.add(rec.path("agent").asText() + " " + rec.path("target").asText() + " " + rec.path("decision").asText());
            assertThat(egress).containsExactly("tool_server:fetcher 127.0.0.7:" + port + " allow", "tool_server:fetcher 127.0.0.7:" + port + " allow");
            assertThat(http.get("/v1/agents").status()).as("the node still answers").isEqualTo(200);
            // Only the granted server's sandbox has a proxy socket, and it goes with the server.
            assertThat(sockets()).hasSize(1).allMatch(n -> n.startsWith("mcp-"));
            node.tools().remove("default", "fetcher");
            assertThat(sockets()).isEmpty();
        } finally {
            local.stop(0);
        }
    }

    /** Counts what is written, keeps nothing. */
    static final class CountingStream extends java.io.OutputStream {
        volatile long bytes;

        @Override
        public void write(int b) {
            bytes++;
        }

        @Override
        public void write(byte[] b, int off, int len) {
            bytes += len;
        }
    }

    private static String remote(String name, String url, String egress) {
        return "{\"name\": \"" + name + "\", \"url\": \"" + url + "\", \"permissions\": {\"network\": {\"egress\": [\"" + egress + "\"]}},"
                + " \"resources\": {\"timeout\": \"5s\"}}";
    }

    private static String python(String name, String network) {
        return "{\"name\": \"" + name + "\", \"command\": [\"python3\", \"/opt/py/server.py\"], \"permissions\": {" + network
                + "\"filesystem\": {\"read\": [\"/opt/py\"]}}, \"resources\": {\"timeout\": \"10s\"}}";
    }

    private List<String> sockets() throws java.io.IOException {
        try (var files = Files.list(dir.resolve("data/run/egress"))) {
            return files.map(p -> p.getFileName().toString()).toList();
        }
    }

    private static int freePort(InetAddress at) throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, at)) {
            return s.getLocalPort();
        }
    }

    private void awaitListening(Process p, InetAddress at, int port) throws Exception {
        long until = System.nanoTime() + 30_000_000_000L;
        while (System.nanoTime() < until) {
            assertThat(p.isAlive()).as(() -> "server-everything exited: " + log()).isTrue();
            try (Socket s = new Socket(at, port)) {
                return;
            } catch (java.io.IOException e) {
                Thread.sleep(100);
            }
        }
        throw new AssertionError("server-everything did not listen on " + port + " within 30 s: " + log());
    }

    private String log() {
        try {
            return Files.readString(dir.resolve("everything.log"));
        } catch (java.io.IOException e) {
            return e.toString();
        }
    }
}
