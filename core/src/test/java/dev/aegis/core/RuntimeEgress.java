package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

/**
 * The egress bridge every {@link AgentRuntime} must provide: with {@link SandboxSpec#egressSocket()} the sandbox has a
 * relay on {@code 127.0.0.1:3128} (its own loopback) that carries each TCP connection to a new connection on that unix
 * socket, and {@code HTTP_PROXY}/{@code HTTPS_PROXY} point there; without it nothing listens. The "proxy" here is a
 * small unix-socket server of the test's: HTTP requests get a response naming the request line, anything else is
 * echoed back once the client half-closed. Agents are Python (urllib honours the proxy variables).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class RuntimeEgress {
    private static final AtomicInteger SEQ = new AtomicInteger();
    private static final Manifest.Resources SMALL =
            new Manifest.Resources(1.0, 128L << 20, 32, 8L << 20, Duration.ofSeconds(20));

    protected Path root;
    protected AgentRuntime runtime;
    private Path agentDir, agentLib, agentSocket, egressSocket;
    private ServerSocketChannel agentApi, proxy;
    private final List<String> requestLines = Collections.synchronizedList(new ArrayList<>());

    /** A runtime keeping its state under {@code stateDir}. */
    protected abstract AgentRuntime create(Path stateDir);

    protected abstract String runtimeName();

    protected Optional<String> image() {
        return Optional.empty();
    }

    @BeforeAll
    void setUp() throws IOException {
        root = Files.createTempDirectory("aegis-egress");
        agentDir = Files.createDirectories(root.resolve("agent"));
        agentLib = Files.createDirectories(root.resolve("lib"));
        for (Path p : List.of(root, agentDir, agentLib)) Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        agentSocket = root.resolve("agent.sock");
        agentApi = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(agentSocket));
        egressSocket = root.resolve("egress.sock");
        proxy = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(egressSocket));
        // As the server will set them up: open to the sandbox group (Docker's uid 1000 is the host's).
        for (Path s : List.of(agentSocket, egressSocket)) {
            Files.setPosixFilePermissions(s, PosixFilePermissions.fromString("rw-rw----"));
            Files.setAttribute(s, "unix:gid", 1000);
        }
        Thread.ofVirtual().name("test-egress-proxy").start(this::serve);
        runtime = create(root.resolve("state"));
        assertThat(runtime.isApplicable()).as(runtime.description()).isTrue();
    }

    @AfterAll
    void tearDown() throws IOException {
        runtime.reclaim();
        proxy.close();
        agentApi.close();
    }

    @Test
    void anAgentReachesTheProxyThroughTheLoopbackPort() {
        String out = run(spec(true, """
                import json, os, urllib.request
                r = urllib.request.urlopen("http://service.test/hello?x=1", timeout=10)
                env = {k: v for k, v in os.environ.items() if "proxy" in k.lower()}
                print(json.dumps({"status": r.status, "body": r.read().decode(), "env": env}))
                """));
        assertThat(out).contains("\"status\": 200", "\"body\": \"proxied GET http://service.test/hello?x=1 HTTP/1.1\"");
        for (String name : List.of("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"))
            assertThat(out).contains("\"" + name + "\": \"http://127.0.0.1:3128\"");
        assertThat(out).contains("\"NO_PROXY\": \"localhost,127.0.0.1\"");
        assertThat(requestLines).contains("GET http://service.test/hello?x=1 HTTP/1.1");
    }

    /** A MiB each way, the client half-closing first: the relay passes the EOF on and still delivers the whole answer. */
    @Test
    void theRelayCopiesBothWaysAndPassesHalfCloses() {
        String out = run(spec(true, """
                import json, socket
                data = bytes(range(256)) * 4096
                s = socket.create_connection(("127.0.0.1", 3128), timeout=10)
                s.sendall(data)
                s.shutdown(socket.SHUT_WR)
                got = b"".join(iter(lambda: s.recv(65536), b""))
                print(json.dumps({"got": len(got), "same": got == b"echo:" + data}))
                """));
        assertThat(out).contains("\"got\": " + (5 + (1 << 20)), "\"same\": true");
    }

    @Test
    void withoutAnEgressSocketNothingListens() {
        String out = run(spec(false, """
                import json, os, socket
                try:
                    socket.create_connection(("127.0.0.1", 3128), timeout=5)
                    r = "connected"
                except ConnectionRefusedError:
                    r = "refused"
                print(json.dumps({"result": r, "proxies": [k for k in os.environ if "proxy" in k.lower()]}))
                """));
        assertThat(out).contains("\"result\": \"refused\"", "\"proxies\": []");
    }

    /** The relay is one process of the sandbox: it takes one of its pids, and the sandbox's end is its end. */
    @Test
    void theRelayCountsAgainstThePidsLimitAndDiesWithTheSandbox() {
        String forks = """
                import json, os, time
                kids = []
                while len(kids) < 1000:
                    try:
                        pid = os.fork()
                    except OSError:
                        break
                    if pid == 0:
                        time.sleep(60)
                        os._exit(0)
                    kids.append(pid)
                for k in kids:
                    os.kill(k, 9)
                    os.waitpid(k, 0)
                print(json.dumps({"forks": len(kids)}))
                """;
        int without = forks(run(spec(false, forks)));
        int with = forks(run(spec(true, forks)));
        assertThat(with).as("forks with the relay vs %d without", without).isEqualTo(without - 1);

        SandboxSpec spec = spec(true, "import sys; sys.stdin.read(); print('{}')");
        InstanceId id = runtime.spawn(spec);
        try {
            assertThat(relays(id)).as("relay processes of the warm instance").hasSize(1);
            runtime.execute(id, "{}", line -> { });
            assertThat(relays(id)).as("relay processes once the agent exited").isEmpty();
        } finally {
            runtime.terminate(id);
        }
        assertThat(relays(id)).isEmpty();
    }

    private static int forks(String out) {
        return Integer.parseInt(out.replaceAll("(?s).*\"forks\": (\\d+).*", "$1"));
    }

    /** Host pids of processes named aegis-relay whose cgroup names the instance (bubblewrap's, or Docker's parent). */
    private static List<Long> relays(InstanceId id) {
        List<Long> found = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : procs.filter(p -> p.getFileName().toString().matches("\\d+")).toList()) {
                try {
                    if (Files.readString(p.resolve("comm")).strip().equals("aegis-relay")
                            && Files.readString(p.resolve("cgroup")).contains("/" + id.value()))
                        found.add(Long.parseLong(p.getFileName().toString()));
                } catch (IOException e) {
                    // exited meanwhile
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    private SandboxSpec spec(boolean egress, String python) {
        Manifest m = new Manifest("egress", "1.0.0", runtimeName(), List.of("python3", "-c", python), image(), SMALL,
                Manifest.Permissions.NONE, List.of(), Manifest.Pool.DEFAULT);
        InstanceId id = new InstanceId("e-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet());
        return new SandboxSpec(id, m, agentDir, agentSocket, agentLib, egress ? Optional.of(egressSocket) : Optional.empty(),
                Map.of(), List.of(), SandboxSpec.OutputLimits.DEFAULT);
    }

    private String run(SandboxSpec spec) {
        List<String> logs = Collections.synchronizedList(new ArrayList<>());
        InstanceId id = runtime.spawn(spec);
        try {
            Outcome o = runtime.execute(id, "{}", logs::add);
            assertThat(o).as("logs: %s", logs).isInstanceOf(Outcome.Exited.class);
            assertThat(((Outcome.Exited) o).code()).as("logs: %s", logs).isZero();
            return ((Outcome.Exited) o).output();
        } finally {
            runtime.terminate(id);
        }
    }

    private void serve() {
        while (proxy.isOpen()) {
            try {
                SocketChannel c = proxy.accept();
                Thread.ofVirtual().start(() -> answer(c));
            } catch (IOException e) {
                return; // closed by tearDown
            }
        }
    }

    /** HTTP: a response naming the request line. Anything else: "echo:" and the bytes, once the client half-closed. */
    private void answer(SocketChannel c) {
        try (c) {
            ByteArrayOutputStream in = new ByteArrayOutputStream();
            ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
            while (c.read(buf.clear()) > 0) {
                in.write(buf.array(), 0, buf.position());
                String text = in.toString(StandardCharsets.ISO_8859_1);
                if (text.contains("\r\n\r\n") && text.matches("(?s)^[A-Z]+ \\S+ HTTP/1\\.[01]\r\n.*")) {
                    String line = text.substring(0, text.indexOf("\r\n"));
                    requestLines.add(line);
                    byte[] body = ("proxied " + line).getBytes(StandardCharsets.UTF_8);
                    writeAll(c, ("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: " + body.length
                            + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    writeAll(c, body);
                    return;
                }
            }
            writeAll(c, "echo:".getBytes(StandardCharsets.US_ASCII));
            writeAll(c, in.toByteArray());
        } catch (IOException e) {
            // the client went away
        }
    }

    private static void writeAll(SocketChannel c, byte[] bytes) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(bytes);
        while (b.hasRemaining()) c.write(b);
    }
}
