package dev.aegis.security;

import dev.aegis.core.EgressGrant;
import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.audit.FileAuditLog;
import dev.aegis.core.AuditDecision;
import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.EgressRule;
import dev.aegis.core.InstanceId;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.Socket;
import java.net.UnknownHostException;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * Shared scene of the proxy tests: real servers on 127.0.0.2-127.0.0.5 under made-up names (a fixed resolver
 * table stands in for DNS), one proxy writing to a real hash-chained audit log, and small clients.
 *
 * <pre>
 * api.example.com      127.0.0.2  HTTP        allowed (with 127.0.0.2 listed by IP, as loopback needs)
 * denied.example.com   127.0.0.3  HTTP        never listed: its hit count must stay 0
 * secure.example.com   127.0.0.4  HTTPS       tls:// entry
 * plain.example.com    127.0.0.5  TCP echo    for tunnels
 * </pre>
 */
abstract class ProxyFixture {
    static Path dir;
    static FileAuditLog audit;
    static Servers.Tls tls;
    static Servers.Web api;
    static Servers.Web denied;
    static Servers.Web secure;
    static Servers.Echo echo;
    static EgressProxy proxy;
    static Resolver dns;
    private static final AtomicInteger SEQ = new AtomicInteger();

    @BeforeAll
    static void scene() throws Exception {
        dir = Files.createTempDirectory("aegis-egress-test");
        audit = FileAuditLog.open(dir.resolve("audit"));
        tls = Servers.Tls.selfSigned(dir, "secure.example.com", "api.example.com");
        api = Servers.http("127.0.0.2", "api");
        denied = Servers.http("127.0.0.3", "denied");
        secure = Servers.https("127.0.0.4", "secure", tls.server());
        echo = new Servers.Echo("127.0.0.5");
        dns = Resolver.of(Map.ofEntries(
                Map.entry("api.example.com", ips("127.0.0.2")),
                Map.entry("a.b.example.com", ips("127.0.0.2")),
                Map.entry("example.com", ips("127.0.0.2")),
                Map.entry("evil-example.com", ips("127.0.0.2")),
                Map.entry("xn--pple-43d.example.com", ips("127.0.0.2")),
                Map.entry("denied.example.com", ips("127.0.0.3")),
                Map.entry("secure.example.com", ips("127.0.0.4")),
                Map.entry("plain.example.com", ips("127.0.0.5")),
                Map.entry("loop.example.com", ips("127.0.0.1")),
                Map.entry("v6.example.com", ips("::1")),
                Map.entry("metadata.example.com", ips("169.254.169.254")),
                Map.entry("metadata6.example.com", ips("fd00:ec2::254"))));
        proxy = new EgressProxy(audit, EgressConfig.defaults().withResolver(dns).withFetchTls(tls.client()));
    }

    @AfterAll
    static void teardown() throws IOException {
        proxy.close();
        api.close();
        denied.close();
        secure.close();
        echo.close();
        audit.close();
    }

    /** The usual allow-list: api over HTTP, secure over TLS only, plain for tunnels; each IP listed too. */
    static List<String> usual() {
        return new ArrayList<>(List.of("api.example.com:" + api.port(), "127.0.0.2:" + api.port(),
                "tls://secure.example.com:" + secure.port(), "127.0.0.4:" + secure.port(),
                "plain.example.com:" + echo.port(), "127.0.0.5:" + echo.port()));
    }

    /** A grant for a fresh instance, agent and task, whose rules the test may change through {@code rules}. */
    static final class Scene {
        final AtomicReference<List<EgressRule>> rules = new AtomicReference<>();
        final EgressGrant grant;
        final String agent;
        final String task;

        Scene(List<String> entries) {
            int n = SEQ.incrementAndGet();
            agent = "agent-" + n;
            task = "task-" + n;
            allow(entries);
            grant = new EgressGrant("acme", agent, new InstanceId("i-test-" + n), () -> Optional.of(task), rules::get);
        }

        void allow(List<String> entries) {
            rules.set(entries.stream().map(EgressRule::parse).toList());
        }

        InetSocketAddress listen() {
            return proxy.openLoopback(grant);
        }

        List<AuditEvent> events() {
            return audit.query(AuditQuery.all(1000).agent(agent)).stream().map(AuditRecord::event).toList();
        }

        /** Waits (allowed attempts are recorded when they end, off the connection's thread) for a matching event. */
        AuditEvent await(Predicate<AuditEvent> match) throws InterruptedException {
            long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (System.nanoTime() < until) {
                Optional<AuditEvent> e = events().stream().filter(match).findFirst();
                if (e.isPresent()) return e.get();
                Thread.sleep(20);
            }
            throw new AssertionError("no matching audit event for " + agent + "; have " + events());
        }

        AuditEvent denial(String reasonFragment) throws InterruptedException {
            AuditEvent e = await(x -> x.decision() == AuditDecision.DENY && x.reason().contains(reasonFragment));
            assertThat(e.agent()).contains(agent);
            assertThat(e.task()).contains(task);
            assertThat(e.actor()).isEqualTo("agent:" + grant.instance());
            return e;
        }

        AuditEvent allowed(String action, String target) throws InterruptedException {
            return await(x -> x.decision() == AuditDecision.ALLOW && x.action().equals(action) && x.target().equals(target));
        }
    }

    static HttpClient client(InetSocketAddress proxyAddress, HttpClient.Redirect redirects) {
        return HttpClient.newBuilder().proxy(ProxySelector.of(proxyAddress)).sslContext(tls.client())
                .followRedirects(redirects).version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
    }

    /** Sends raw bytes, returns everything until the proxy closes. */
    static String exchange(InetSocketAddress proxyAddress, String request) throws IOException {
        return exchange(proxyAddress, request.getBytes(StandardCharsets.ISO_8859_1));
    }

    static String exchange(InetSocketAddress proxyAddress, byte[] request) throws IOException {
        try (Socket s = new Socket(proxyAddress.getAddress(), proxyAddress.getPort())) {
            s.setSoTimeout(10_000);
            s.getOutputStream().write(request);
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
        }
    }

    /** Opens a CONNECT tunnel and checks the proxy's 200. */
    static Socket tunnel(InetSocketAddress proxyAddress, String authority) throws IOException {
        Socket s = new Socket(proxyAddress.getAddress(), proxyAddress.getPort());
        s.setSoTimeout(10_000);
        s.getOutputStream().write(("CONNECT " + authority + " HTTP/1.1\r\nHost: " + authority + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        assertThat(head(s.getInputStream())).startsWith("HTTP/1.1 200");
        return s;
    }

    /** Reads a response head, byte by byte, so that nothing after it is consumed. */
    static String head(InputStream in) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        while (!b.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int c = in.read();
            if (c < 0) break;
            b.write(c);
        }
        return b.toString(StandardCharsets.ISO_8859_1);
    }

    static List<InetAddress> ips(String... texts) {
        List<InetAddress> out = new ArrayList<>();
        for (String t : texts) {
            try {
                out.add(InetAddress.getByName(t));
            } catch (UnknownHostException e) {
                throw new IllegalStateException(e);
            }
        }
        return out;
    }
}
