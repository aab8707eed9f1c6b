package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.aegis.security.EgressConfig;
import dev.aegis.security.Resolver;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Egress end to end, in both runtimes: a Python agent (stdlib urllib, which honours {@code HTTP_PROXY}) in a real
 * sandbox reaches a local server on 127.0.0.2 through the node's egress proxy, under its manifest's
 * {@code permissions.network.egress}; what is not listed gets the proxy's 403; every attempt is in the audit log with
 * the agent and the task; the bytes are in the task's usage and in {@code /v1/usage}; and no instance's socket
 * outlives it, whether it ran a task, waited warm, or failed to start.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EgressTest {
    @TempDir
    static Path dir;
    private Node node;
    private Http http;
    private HttpServer server;
    private int port, closedPort;
    private final AtomicInteger hits = new AtomicInteger();

    /** Fetches each URL of the task and reports status and body, or the error; never raises. */
    static final String FETCHER = """
            import json, os, urllib.error, urllib.request
            from aegis_agent import task, result
            out = {"proxy": os.environ.get("HTTP_PROXY", "")}
            for name, url in task["urls"].items():
                try:
                    r = urllib.request.urlopen(url, timeout=10)
                    out[name] = {"status": r.status, "body": r.read().decode()}
                except urllib.error.HTTPError as e:
                    out[name] = {"status": e.code, "body": e.read().decode()}
                except Exception as e:
                    out[name] = {"error": type(e).__name__ + ": " + str(e)}
            result(out)
            """;

    @BeforeAll
    void start() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0), 0);
        server.createContext("/", ex -> {
            hits.incrementAndGet();
            byte[] body = ("hello from " + ex.getRequestURI().getPath()).getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        server.start();
        port = server.getAddress().getPort();
        try (var probe = new java.net.ServerSocket(0, 1, InetAddress.getByName("127.0.0.2"))) {
            closedPort = probe.getLocalPort();
        }
        InetAddress local = InetAddress.getByName("127.0.0.2");
        Resolver dns = Resolver.of(Map.of("api.example.com", List.of(local), "other.example.com", List.of(local)));
        Node.Config config = Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of());
        node = new Node(config.withSecurity(config.security().withEgress(EgressConfig.defaults().withResolver(dns))));
        http = new Http(node.url(), node.firstAdminKey().orElseThrow());
    }

    @AfterAll
    void stop() throws IOException {
        try {
            if (node != null) node.close();
            assertThat(sockets()).as("egress sockets after the node closed").isEmpty();
        } finally {
            server.stop(0);
        }
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"bubblewrap", "docker"})
    void anAgentGetsOutOnlyWhereItsManifestSaysAndEveryAttemptIsAudited(String runtime) throws Exception {
        String agent = "egress-" + runtime;
        // The server is on loopback, which the proxy reaches only when an entry also names the IP (on that port).
        String egress = "permissions:\n  network: {egress: [\"api.example.com:" + port + "\", \"127.0.0.2:" + port + "\"]}\n";
        Map<String, String> urls = Map.of(
                "allowed", "http://api.example.com:" + port + "/hello",
                "host", "http://other.example.com:" + port + "/secret",
                "port", "http://api.example.com:" + closedPort + "/",
                "tunnel", "https://other.example.com:" + port + "/");
        int before = hits.get();
        List<String> tasks = new ArrayList<>();
        // A booted instance, then a warm one: its grant was opened before it had a task, and learns it when it takes one.
        for (int warm = 0; warm < 2; warm++) {
            deploy(agent, runtime, "pool: {warm: " + warm + ", max: 2}\n" + egress);
            if (warm == 1) awaitWarm(agent);
            JsonNode t = http.post("/v1/tasks", Map.of("agent", agent, "wait", true, "input", Map.of("urls", urls))).body();
            assertThat(t.path("state").asText()).as(t.toString()).isEqualTo("succeeded");
            JsonNode r = t.path("result");
            assertThat(r.path("proxy").asText()).isEqualTo("http://127.0.0.1:3128");
            assertThat(r.path("allowed").path("status").asInt()).as(r.toString()).isEqualTo(200);
            assertThat(r.path("allowed").path("body").asText()).isEqualTo("hello from /hello");
            assertThat(r.path("host").path("status").asInt()).as(r.toString()).isEqualTo(403);
            assertThat(r.path("host").path("body").asText())
                    .isEqualTo("aegis egress proxy: other.example.com:" + port + " is not in permissions.network.egress\n");
            assertThat(r.path("port").path("status").asInt()).isEqualTo(403);
            assertThat(r.path("port").path("body").asText())
                    .contains("port " + closedPort + " is not allowed for api.example.com (allowed: " + port + ")");
            assertThat(r.path("tunnel").path("error").asText()).as(r.toString()).contains("Tunnel connection failed: 403");
            long egressBytes = t.path("usage").path("egress_bytes").asLong();
            assertThat(egressBytes).as("the task's usage: %s", t.path("usage")).isPositive();
            assertThat(t.path("lifecycle").toString()).contains(warm == 1 ? "taken from the warm pool" : "sandbox booted by " + runtime);
            String instance = t.path("lifecycle").get(t.path("lifecycle").size() - 1).path("instance").asText();
            assertThat(instance).startsWith("i-");
            assertThat(dir.resolve("data/run/egress/" + instance + ".sock")).as("the task's egress socket").doesNotExist();
            tasks.add(t.path("id").asText());
        }
        assertThat(hits.get() - before).as("only the allowed requests reached the server").isEqualTo(2);

        for (String task : tasks) {
            List<JsonNode> records = awaitRecords(agent, task, 4);
            List<String> seen = new ArrayList<>();
            for (JsonNode rec : records) {
                seen.add(rec.path("action").asText() + " " + rec.path("target").asText() + " " + rec.path("decision").asText());
                assertThat(rec.path("agent").asText()).isEqualTo(agent);
                assertThat(rec.path("actor").asText()).startsWith("agent:i-");
                if (rec.path("decision").asText().equals("allow")) {
                    assertThat(rec.path("details").path("bytes_up").asLong()).as(rec.toString()).isPositive();
                    assertThat(rec.path("details").path("bytes_down").asLong()).as(rec.toString()).isPositive();
                    assertThat(rec.path("details").path("ip").asText()).isEqualTo("127.0.0.2");
                } else {
                    assertThat(rec.path("reason").asText()).isNotBlank();
                }
            }
            assertThat(seen).containsExactlyInAnyOrder(
                    "egress.request api.example.com:" + port + " allow",
                    "egress.request other.example.com:" + port + " deny",
                    "egress.request api.example.com:" + closedPort + " deny",
                    "egress.connect other.example.com:" + port + " deny");
        }

        JsonNode usage = http.get("/v1/usage?group_by=agent").body().path("usage");
        long metered = 0;
        for (JsonNode row : usage) if (row.path("agent").asText().equals(agent)) metered = row.path("egress_bytes").asLong();
        assertThat(metered).as("/v1/usage: %s", usage).isPositive();
        assertSocketsBelongToLiveInstances();
    }

    /** An agent without egress entries gets no socket and no proxy variables: nothing in it can even try. */
    @Test
    void withoutEntriesThereIsNoWayOut() throws Exception {
        deploy("offline", "bubblewrap", "");
        JsonNode t = http.post("/v1/tasks", Map.of("agent", "offline", "wait", true, "input",
                Map.of("urls", Map.of("direct", "http://127.0.0.2:" + port + "/")))).body();
        assertThat(t.path("state").asText()).as(t.toString()).isEqualTo("succeeded");
        assertThat(t.path("result").path("proxy").asText()).isEmpty();
        assertThat(t.path("result").path("direct").path("error").asText()).contains("Connection refused");
        assertThat(t.path("usage").path("egress_bytes").asLong()).isZero();
    }

    /** A spawn that fails after the grant was opened (an image the engine does not have) still closes it. */
    @Test
    void aFailedSpawnLeavesNoSocket() throws Exception {
        deploy("no-image", "docker", "image: aegis/missing:egress-test\npermissions:\n  network: {egress: [\"api.example.com:" + port + "\"]}\n");
        JsonNode t = http.post("/v1/tasks", Map.of("agent", "no-image", "wait", true, "input", Map.of("urls", Map.of()))).body();
        assertThat(t.path("state").asText()).as(t.toString()).isEqualTo("failed");
        assertThat(t.path("error").path("message").asText()).contains("aegis/missing:egress-test");
        assertSocketsBelongToLiveInstances();
    }

    private void awaitWarm(String agent) throws InterruptedException {
        long until = System.nanoTime() + 30_000_000_000L;
        while (node.orchestrator().instances("default").stream().noneMatch(i -> i.agent().equals(agent) && i.taskId().isEmpty())) {
            assertThat(System.nanoTime()).as("a warm instance within 30 s").isLessThan(until);
            Thread.sleep(50);
        }
    }

    /** Every socket in the egress folder is a live instance's (warm pools refill in the background: wait for them). */
    private void assertSocketsBelongToLiveInstances() throws Exception {
        long until = System.nanoTime() + 10_000_000_000L;
        List<String> stray;
        do {
            List<String> live = node.orchestrator().instances("default").stream().map(i -> i.id() + ".sock").toList();
            stray = sockets().stream().filter(s -> !live.contains(s)).toList();
            if (stray.isEmpty()) return;
            Thread.sleep(50);
        } while (System.nanoTime() < until);
        assertThat(stray).as("egress sockets of no live instance").isEmpty();
    }

    /** Audit records of {@code task} with an egress action, waiting for the allowed ones (recorded when they end). */
    private List<JsonNode> awaitRecords(String agent, String task, int expected) throws Exception {
        long until = System.nanoTime() + 10_000_000_000L;
        List<JsonNode> found;
        do {
            found = new ArrayList<>();
            for (JsonNode rec : http.get("/v1/audit?agent=" + agent + "&task=" + task + "&limit=1000").body().path("records"))
                if (rec.path("action").asText().startsWith("egress.")) found.add(rec);
            if (found.size() >= expected) return found;
            Thread.sleep(50);
        } while (System.nanoTime() < until);
        return found;
    }

    private List<String> sockets() throws IOException {
        Path d = dir.resolve("data/run/egress");
        if (!Files.isDirectory(d)) return List.of();
        try (Stream<Path> s = Files.list(d)) {
            return s.map(p -> p.getFileName().toString()).toList();
        }
    }

    private void deploy(String name, String runtime, String yamlExtra) throws Exception {
        Path d = Files.createDirectories(dir.resolve("agents/" + name));
        Files.writeString(d.resolve("agent.yaml"), "name: " + name + "\nversion: 1.0.0\nruntime: " + runtime + "\n"
                + "entrypoint: [\"python3\", \"agent.py\"]\n" + yamlExtra);
        Files.writeString(d.resolve("agent.py"), FETCHER);
        Http.Response r = http.upload("/v1/agents", TarGz.pack(d));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
    }
}
