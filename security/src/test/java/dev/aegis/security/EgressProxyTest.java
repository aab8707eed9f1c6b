package dev.aegis.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.core.AegisException;
import dev.aegis.core.AuditDecision;
import dev.aegis.core.AuditEvent;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the proxy lets through, and that it counts and records it: real clients, real servers, real audit log. */
class EgressProxyTest extends ProxyFixture {
    @Test
    void forwardsAnAllowedHttpRequestAndRecordsIt() throws Exception {
        Scene s = new Scene(usual());
        try (HttpClient c = client(s.listen(), HttpClient.Redirect.NEVER)) {
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("http://api.example.com:" + api.port() + "/hello")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("api GET /hello host=api.example.com:" + api.port() + " body=0");
        }
        AuditEvent e = s.allowed("egress.request", "api.example.com:" + api.port());
        assertThat(e.details()).containsEntry("ip", "127.0.0.2").containsEntry("method", "GET").containsEntry("scheme", "http")
                .containsEntry("status", "200").containsEntry("port", Integer.toString(api.port()));
        assertThat(Long.parseLong(e.details().get("bytes_up"))).isPositive();
        assertThat(Long.parseLong(e.details().get("bytes_down"))).isGreaterThan(("api GET /hello host=api.example.com:" + api.port() + " body=0").length());
        assertThat(e.agent()).contains(s.agent);
        assertThat(e.task()).contains(s.task);
        assertThat(e.tenant()).isEqualTo("acme");
    }

    @Test
    void tunnelsTlsNamingTheConnectHost() throws Exception {
        Scene s = new Scene(usual());
        try (HttpClient c = client(s.listen(), HttpClient.Redirect.NEVER)) {
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("https://secure.example.com:" + secure.port() + "/hi")).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).startsWith("secure GET /hi");
        }
        AuditEvent e = s.allowed("egress.connect", "secure.example.com:" + secure.port());
        assertThat(e.details()).containsEntry("ip", "127.0.0.4").containsEntry("scheme", "tls").containsEntry("method", "CONNECT")
                .containsEntry("sni", "secure.example.com");
        assertThat(Long.parseLong(e.details().get("bytes_up"))).isGreaterThan(200); // at least a ClientHello
        assertThat(Long.parseLong(e.details().get("bytes_down"))).isGreaterThan(200);
    }

    @Test
    void keepsTheConnectionAliveAndChecksEveryRequestAgainstTheCurrentList() throws Exception {
        Scene s = new Scene(usual());
        String get = "GET http://api.example.com:" + api.port() + "/k HTTP/1.1\r\nHost: api.example.com:" + api.port() + "\r\n\r\n";
        long before = api.hits.get();
        try (Socket sock = new Socket(s.listen().getAddress(), s.listen().getPort())) {
            sock.setSoTimeout(10_000);
            InputStream in = sock.getInputStream();
            for (int i = 0; i < 3; i++) {
                sock.getOutputStream().write(get.getBytes(StandardCharsets.US_ASCII));
                assertThat(head(in)).startsWith("HTTP/1.1 200");
                in.readNBytes(("api GET /k host=api.example.com:" + api.port() + " body=0").length());
            }
            s.allow(List.of("plain.example.com:" + echo.port())); // a redeploy narrows the list: the next request is refused
            sock.getOutputStream().write(get.getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(in.readAllBytes(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 403")
                    .contains("api.example.com:" + api.port() + " is not in permissions.network.egress");
        }
        assertThat(api.hits.get() - before).isEqualTo(3);
        s.denial("is not in permissions.network.egress");
        assertThat(s.events().stream().filter(e -> e.action().equals("egress.request"))).hasSizeGreaterThanOrEqualTo(4);
    }

    @Test
    void relaysRequestBodiesAndChunkedResponses() throws Exception {
        Scene s = new Scene(usual());
        String base = "http://api.example.com:" + api.port();
        try (HttpClient c = client(s.listen(), HttpClient.Redirect.NEVER)) {
            byte[] body = new byte[100_000];
            HttpResponse<String> fixed = c.send(HttpRequest.newBuilder(URI.create(base + "/post"))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(fixed.body()).endsWith("POST /post host=api.example.com:" + api.port() + " body=100000");
            // A publisher of unknown length makes the JDK client send Transfer-Encoding: chunked.
            HttpResponse<String> chunked = c.send(HttpRequest.newBuilder(URI.create(base + "/post"))
                    .POST(HttpRequest.BodyPublishers.ofInputStream(() -> new java.io.ByteArrayInputStream(new byte[70_000]))).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(chunked.body()).endsWith("body=70000");
            assertThat(c.send(HttpRequest.newBuilder(URI.create(base + "/chunked")).build(), HttpResponse.BodyHandlers.ofString()).body())
                    .isEqualTo("part 0;part 1;part 2;");
            HttpResponse<byte[]> big = c.send(HttpRequest.newBuilder(URI.create(base + "/big?n=3000000")).build(),
                    HttpResponse.BodyHandlers.ofByteArray());
            assertThat(big.body()).hasSize(3_000_000);
            assertThat(big.body()[2_999_999]).isEqualTo((byte) 2_999_999);
        }
        AuditEvent post = s.await(e -> "POST".equals(e.details().get("method")) && Long.parseLong(e.details().get("bytes_up")) > 100_000);
        assertThat(post.details()).containsEntry("status", "200");
        assertThat(proxy.egressBytes(s.grant.instance())).isGreaterThan(3_170_000);
    }

    @Test
    void tunnelsOtherProtocolsToAnAllowedHostAndCountsTheBytes() throws Exception {
        Scene s = new Scene(usual());
        try (Socket t = tunnel(s.listen(), "plain.example.com:" + echo.port())) {
            t.getOutputStream().write("hello, echo\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(t.getInputStream().readNBytes(12), StandardCharsets.US_ASCII)).isEqualTo("hello, echo\n");
        }
        AuditEvent e = s.allowed("egress.connect", "plain.example.com:" + echo.port());
        assertThat(e.details()).containsEntry("bytes_up", "12").containsEntry("bytes_down", "12").containsEntry("scheme", "tcp")
                .containsEntry("ip", "127.0.0.5");
        assertThat(proxy.egressBytes(s.grant.instance())).isEqualTo(24);
    }

    @Test
    void servesAnInstanceOnAUnixSocketUntilItIsClosed() throws Exception {
        Scene s = new Scene(usual());
        Path sock = Files.createTempDirectory(dir, "inst").resolve("egress.sock");
        assertThat(proxy.open(s.grant, sock)).isEqualTo(sock);
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(sock))).isEqualTo("rw-rw----");
        try (SocketChannel ch = SocketChannel.open(UnixDomainSocketAddress.of(sock))) {
            ch.write(ByteBuffer.wrap(("GET http://api.example.com:" + api.port() + "/unix HTTP/1.1\r\nHost: api.example.com:" + api.port()
                    + "\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
            String response = new String(Channels.newInputStream(ch).readAllBytes(), StandardCharsets.US_ASCII);
            assertThat(response).startsWith("HTTP/1.1 200").endsWith("api GET /unix host=api.example.com:" + api.port() + " body=0");
        }
        // An open tunnel is cut when the instance goes away.
        SocketChannel open = SocketChannel.open(UnixDomainSocketAddress.of(sock));
        open.write(ByteBuffer.wrap(("CONNECT plain.example.com:" + echo.port() + " HTTP/1.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII)));
        assertThat(head(Channels.newInputStream(open))).startsWith("HTTP/1.1 200");
        long bytes = proxy.egressBytes(s.grant.instance());
        assertThat(bytes).isPositive();
        assertThat(proxy.close(s.grant.instance())).isEqualTo(bytes);
        assertThat(Channels.newInputStream(open).read()).isEqualTo(-1);
        open.close();
        assertThat(sock).doesNotExist();
        assertThatThrownBy(() -> SocketChannel.open(StandardProtocolFamily.UNIX).connect(UnixDomainSocketAddress.of(sock)))
                .isInstanceOf(java.io.IOException.class);
        s.allowed("egress.connect", "plain.example.com:" + echo.port());
    }

    @Test
    void fetchTakesTheSamePathAsTheSandbox() throws Exception {
        Scene s = new Scene(usual());
        FetchResult r = proxy.fetch(s.grant, "GET", URI.create("http://api.example.com:" + api.port() + "/tool"), Map.of("X-Tool", "1"),
                new byte[0], FetchLimits.DEFAULT);
        assertThat(r.status()).isEqualTo(200);
        assertThat(new String(r.body(), StandardCharsets.UTF_8)).isEqualTo("api GET /tool host=api.example.com:" + api.port() + " body=0");
        assertThat(r.headers()).containsKey("content-length");
        FetchResult tlsResult = proxy.fetch(s.grant, "POST", URI.create("https://secure.example.com:" + secure.port() + "/t"), Map.of(),
                "abc".getBytes(StandardCharsets.US_ASCII), FetchLimits.DEFAULT);
        assertThat(new String(tlsResult.body(), StandardCharsets.UTF_8)).startsWith("secure POST /t").endsWith("body=3");
        FetchResult cut = proxy.fetch(s.grant, "GET", URI.create("http://api.example.com:" + api.port() + "/big?n=5000"), Map.of(),
                new byte[0], new FetchLimits(1000, Duration.ofSeconds(10)));
        assertThat(cut.body()).hasSize(1000);
        assertThat(cut.truncated()).isTrue();
        FetchResult redirect = proxy.fetch(s.grant, "GET", URI.create("http://api.example.com:" + api.port() + "/redirect?to=http://denied.example.com/"),
                Map.of(), new byte[0], FetchLimits.DEFAULT);
        assertThat(redirect.status()).as("returned, not followed").isEqualTo(302);
        assertThatThrownBy(() -> proxy.fetch(s.grant, "GET", URI.create("http://denied.example.com:" + denied.port() + "/"), Map.of(),
                new byte[0], FetchLimits.DEFAULT))
                .isInstanceOf(AegisException.class).hasMessageContaining("is not in permissions.network.egress")
                .satisfies(e -> assertThat(((AegisException) e).code()).isEqualTo("policy_denied"));
        assertThatThrownBy(() -> proxy.fetch(s.grant, "GET", URI.create("https://denied.example.com:" + denied.port() + "/"), Map.of(),
                new byte[0], FetchLimits.DEFAULT))
                .isInstanceOf(AegisException.class).hasMessageContaining("is not in permissions.network.egress");
        assertThatThrownBy(() -> proxy.fetch(s.grant, "GET", URI.create("file:///etc/passwd"), Map.of(), new byte[0], FetchLimits.DEFAULT))
                .hasMessageContaining("is not an http:// or https:// URL");
        assertThatThrownBy(() -> proxy.fetch(s.grant, "GET", URI.create("http://api.example.com/"), Map.of("Host", "x"), new byte[0],
                FetchLimits.DEFAULT)).hasMessageContaining("cannot be set");
        assertThat(denied.hits.get()).isZero();
        assertThat(proxy.egressBytes(s.grant.instance())).as("not open: a fetch leaves no instance behind").isZero();
        s.listen();
        proxy.fetch(s.grant, "GET", URI.create("http://api.example.com:" + api.port() + "/again"), Map.of(), new byte[0], FetchLimits.DEFAULT);
        assertThat(proxy.egressBytes(s.grant.instance())).as("open: counted").isPositive();
        s.allowed("egress.request", "api.example.com:" + api.port());
        s.allowed("egress.connect", "secure.example.com:" + secure.port());
        s.denial("denied.example.com:" + denied.port() + " is not in permissions.network.egress");
    }

    /** Allowed, but nobody listens: an error saying so ({@code fetch_failed}), not the proxy's 502 passed off as the server's. */
    @Test
    void aFetchTheProxyCouldNotCarryFailsWithItsReason() throws Exception {
        int closed;
        try (var probe = new java.net.ServerSocket(0, 1, InetAddress.getByName("127.0.0.2"))) {
            closed = probe.getLocalPort();
        }
        List<String> rules = usual();
        rules.addAll(List.of("api.example.com:" + closed, "127.0.0.2:" + closed));
        Scene s = new Scene(rules);
        for (String scheme : List.of("http", "https")) {
            assertThatThrownBy(() -> proxy.fetch(s.grant, "GET", URI.create(scheme + "://api.example.com:" + closed + "/"), Map.of(),
                    new byte[0], FetchLimits.DEFAULT))
                    .isInstanceOf(AegisException.class)
                    .hasMessageStartingWith("fetch " + scheme + "://api.example.com:" + closed + "/: cannot connect to api.example.com:" + closed
                            + " (127.0.0.2): ")
                    .satisfies(e -> assertThat(((AegisException) e).code()).isEqualTo("fetch_failed"));
        }
        assertThat(s.await(e -> e.details().getOrDefault("error", "").startsWith("cannot connect")).decision()).isEqualTo(AuditDecision.ALLOW);
    }
}
