package dev.aegis.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.core.AuditEvent;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every way out that must fail, each with real traffic: the client gets a refusal (or a closed tunnel), the
 * server behind never sees a byte, and the audit log holds the denial with its reason.
 */
class BypassTest extends ProxyFixture {
    private static String get(String url, String host) {
        return "GET " + url + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
    }

    private static void refused(Scene s, String request, int status, String reason) throws Exception {
        String response = exchange(s.listen(), request);
        assertThat(response).startsWith("HTTP/1.1 " + status).contains(reason);
        s.denial(reason);
    }

    @Test
    void hostNotListed() throws Exception {
        Scene s = new Scene(usual());
        String target = "denied.example.com:" + denied.port();
        refused(s, get("http://" + target + "/", target), 403, target + " is not in permissions.network.egress");
        assertThat(denied.hits.get()).isZero();
        AuditEvent e = s.denial(target + " is not in");
        assertThat(e.action()).isEqualTo("egress.request");
        assertThat(e.target()).isEqualTo(target);
        assertThat(e.details()).containsEntry("method", "GET").containsEntry("bytes_up", "0").containsEntry("port", Integer.toString(denied.port()));
    }

    @Test
    void portNotListed() throws Exception {
        Scene s = new Scene(usual());
        String target = "api.example.com:" + denied.port(); // a port api.example.com has no entry for
        refused(s, get("http://" + target + "/", target), 403, "port " + denied.port() + " is not allowed for api.example.com (allowed: " + api.port() + ")");
        try (Socket t = new Socket(s.listen().getAddress(), s.listen().getPort())) {
            t.getOutputStream().write(("CONNECT api.example.com:22 HTTP/1.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(t.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 403");
        }
        s.denial("port 22 is not allowed for api.example.com");
    }

    @Test
    void wildcardMatchesNamesBelowTheDomainOnly() throws Exception {
        int p = api.port();
        Scene s = new Scene(List.of("*.example.com:" + p, "127.0.0.2:" + p));
        assertThat(exchange(s.listen(), get("http://a.b.example.com:" + p + "/w", "a.b.example.com:" + p))).startsWith("HTTP/1.1 200");
        refused(s, get("http://evil-example.com:" + p + "/", "evil-example.com:" + p), 403, "evil-example.com:" + p + " is not in permissions.network.egress");
        refused(s, get("http://example.com:" + p + "/", "example.com:" + p), 403, "example.com:" + p + " is not in permissions.network.egress");
    }

    @Test
    void nameResolvingToLoopback() throws Exception {
        Scene s = new Scene(List.of("*.example.com:" + api.port()));
        refused(s, get("http://loop.example.com:" + api.port() + "/", "loop.example.com:" + api.port()), 403,
                "loop.example.com resolves to loopback address 127.0.0.1, which is denied unless an entry names it by IP");
        // Listed by name only, 127.0.0.2 is refused too: loopback needs its IP listed.
        refused(s, get("http://api.example.com:" + api.port() + "/", "api.example.com:" + api.port()), 403, "loopback address 127.0.0.2");
    }

    @Test
    void ipLiteralNotListed() throws Exception {
        Scene s = new Scene(usual());
        String target = "127.0.0.3:" + denied.port();
        refused(s, get("http://" + target + "/", target), 403, target + " is not in permissions.network.egress");
        try (Socket t = new Socket(s.listen().getAddress(), s.listen().getPort())) {
            t.getOutputStream().write(("CONNECT " + target + " HTTP/1.1\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            assertThat(new String(t.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 403");
        }
        assertThat(denied.hits.get()).isZero();
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"0x7f.0.0.2", "2130706434", "017700000002", "127.2", "127.0.0.02", "[::ffff:127.0.0.2]", "[::ffff:7f00:2]"})
    void alternativeIpSpellings(String host) throws Exception {
        Scene s = new Scene(usual()); // 127.0.0.2 is listed: only the spelling stands between these and the server
        long before = api.hits.get();
        String response = exchange(s.listen(), get("http://" + host + ":" + api.port() + "/", host + ":" + api.port()));
        assertThat(response).startsWith("HTTP/1.1 400");
        AuditEvent e = s.await(x -> x.reason().contains("IP") || x.reason().contains("IPv4"));
        assertThat(e.reason()).containsAnyOf("alternative spelling of an IP address", "IPv4-mapped", "embeds an IPv4 address");
        assertThat(api.hits.get()).isEqualTo(before);
    }

    @Test
    void ipv6() throws Exception {
        Scene s = new Scene(usual());
        int p = api.port();
        refused(s, get("http://[::1]:" + p + "/", "[::1]:" + p), 403, "[::1]:" + p + " is not in permissions.network.egress");
        refused(s, "CONNECT [::1]:" + p + " HTTP/1.1\r\n\r\n", 403, "[::1]:" + p + " is not in");
        Scene wide = new Scene(List.of("*.example.com:" + p));
        refused(wide, get("http://v6.example.com:" + p + "/", "v6.example.com:" + p), 403, "v6.example.com resolves to loopback address 0:0:0:0:0:0:0:1");
        refused(s, "CONNECT ::1:" + p + " HTTP/1.1\r\n\r\n", 400, "an IPv6 address needs brackets");
    }

    @Test
    void cloudMetadataEvenWhenListed() throws Exception {
        Scene s = new Scene(List.of("169.254.169.254:80", "169.254.0.0/16:80", "*.example.com:80", "[fd00:ec2::/32]:80"));
        refused(s, get("http://169.254.169.254/latest/meta-data/", "169.254.169.254"), 403, "169.254.169.254 is a cloud metadata address, which is always denied");
        refused(s, get("http://metadata.example.com/", "metadata.example.com"), 403, "resolves to cloud metadata address 169.254.169.254");
        refused(s, get("http://metadata6.example.com/", "metadata6.example.com"), 403, "resolves to cloud metadata address fd00:ec2:0:0:0:0:0:254");
        refused(s, "CONNECT [fd00:ec2::254]:80 HTTP/1.1\r\n\r\n", 403, "[fd00:ec2::254] is a cloud metadata address");
    }

    @Test
    void punycodeOnlyByExactEntry() throws Exception {
        int p = api.port();
        String idn = "xn--pple-43d.example.com";
        Scene wildcard = new Scene(List.of("*.example.com:" + p, "127.0.0.2:" + p));
        refused(wildcard, get("http://" + idn + ":" + p + "/", idn + ":" + p), 403, "is a punycode (IDN) name; only an entry naming it exactly allows it");
        Scene exact = new Scene(List.of(idn + ":" + p, "127.0.0.2:" + p));
        assertThat(exchange(exact.listen(), get("http://" + idn + ":" + p + "/", idn + ":" + p))).startsWith("HTTP/1.1 200");
    }

    @Test
    void nonAsciiHost() throws Exception {
        Scene s = new Scene(usual());
        byte[] request = ("GET http://\u0430pi.example.com:" + api.port() + "/ HTTP/1.1\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.UTF_8);
        assertThat(exchange(s.listen(), request)).startsWith("HTTP/1.1 400").contains("non-ASCII host");
        s.denial("non-ASCII host");
    }

    @Test
    void hostHeaderDifferentFromTheTarget() throws Exception {
        Scene s = new Scene(usual());
        String allowed = "api.example.com:" + api.port();
        long before = api.hits.get();
        refused(s, get("http://" + allowed + "/", "denied.example.com:" + denied.port()), 403,
                "Host header \"denied.example.com:" + denied.port() + "\" differs from the request target " + allowed);
        refused(s, "GET http://" + allowed + "/ HTTP/1.1\r\nHost: " + allowed + "\r\nHost: denied.example.com\r\n\r\n", 400, "more than one Host header");
        refused(s, "GET http://" + allowed + "/ HTTP/1.1\r\nHost: " + allowed + "\r\nConnection: host\r\nHost: evil\r\n\r\n", 400, "more than one Host header");
        assertThat(api.hits.get()).isEqualTo(before);
    }

    @Test
    void tlsServerNameDifferentFromTheConnectHost() throws Exception {
        Scene s = new Scene(usual());
        // TLS-only entry: the SNI names another host the client hopes the server (or a CDN) will route to.
        assertThatThrownBy(() -> handshake(s.listen(), "secure.example.com:" + secure.port(), "api.example.com")).isInstanceOf(IOException.class);
        AuditEvent e = s.denial("TLS server name (SNI) \"api.example.com\" differs from the CONNECT host secure.example.com");
        assertThat(e.action()).isEqualTo("egress.connect");
        assertThat(e.details()).containsEntry("bytes_up", "0").containsEntry("sni", "api.example.com");
        // A plain entry does not require TLS, but a ClientHello there must still name the CONNECT host.
        assertThatThrownBy(() -> handshake(s.listen(), "plain.example.com:" + echo.port(), "denied.example.com")).isInstanceOf(IOException.class);
        s.denial("TLS server name (SNI) \"denied.example.com\" differs from the CONNECT host plain.example.com");
        assertThat(echo.received.get()).isZero();
        assertThat(secure.hits.get()).isZero();
    }

    @Test
    void tlsEntryNeedsAServerName() throws Exception {
        Scene s = new Scene(usual());
        assertThatThrownBy(() -> handshake(s.listen(), "secure.example.com:" + secure.port(), null)).isInstanceOf(IOException.class);
        s.denial("allows only TLS naming the host (a tls:// entry), but the ClientHello names no server (SNI)");
    }

    @Test
    void tlsEntryRefusesPlainBytes() throws Exception {
        Scene s = new Scene(List.of("tls://plain.example.com:" + echo.port(), "127.0.0.5:" + echo.port()));
        long before = echo.received.get();
        try (Socket t = tunnel(s.listen(), "plain.example.com:" + echo.port())) {
            t.getOutputStream().write("SSH-2.0-not-tls\r\n".getBytes(StandardCharsets.US_ASCII));
            assertThat(t.getInputStream().read()).isEqualTo(-1);
        }
        s.denial("plain.example.com:" + echo.port() + " allows only TLS (a tls:// entry), but the tunnel does not start with a TLS ClientHello");
        assertThat(echo.received.get()).isEqualTo(before);
    }

    @Test
    void plainHttpToATlsOnlyHost() throws Exception {
        Scene s = new Scene(usual());
        String target = "secure.example.com:" + secure.port();
        refused(s, get("http://" + target + "/", target), 403, target + " allows only TLS (a tls:// entry); plain HTTP is denied");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"CONNECT denied.example.com:443 HTTP/1.1\r\nHost: denied.example.com:443\r\n\r\n",
            "GET http://denied.example.com/ HTTP/1.1\r\nHost: denied.example.com\r\n\r\n", "POST /upload HTTP/1.1\r\nHost: x\r\n\r\n"})
    void httpInsideAnAllowedTunnel(String inner) throws Exception {
        // The allowed far side might itself be a proxy (anthropics/claude-code#87381): a request inside the tunnel
        // would then go wherever it names, unchecked.
        Scene s = new Scene(usual());
        long before = echo.received.get();
        try (Socket t = tunnel(s.listen(), "plain.example.com:" + echo.port())) {
            t.getOutputStream().write(inner.getBytes(StandardCharsets.US_ASCII));
            assertThat(t.getInputStream().read()).isEqualTo(-1);
        }
        String method = inner.substring(0, inner.indexOf(' '));
        s.denial("an HTTP request (" + method + ") inside a CONNECT tunnel");
        assertThat(echo.received.get()).isEqualTo(before);
    }

    @Test
    void redirectToADeniedHostIsCheckedAgain() throws Exception {
        Scene s = new Scene(usual());
        String to = "http://denied.example.com:" + denied.port() + "/landing";
        try (HttpClient c = client(s.listen(), HttpClient.Redirect.ALWAYS)) {
            HttpResponse<String> r = c.send(HttpRequest.newBuilder(URI.create("http://api.example.com:" + api.port() + "/redirect?to=" + to)).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(403);
            assertThat(r.body()).contains("denied.example.com:" + denied.port() + " is not in permissions.network.egress");
        }
        assertThat(denied.hits.get()).isZero();
        assertThat(s.allowed("egress.request", "api.example.com:" + api.port()).details()).containsEntry("status", "302");
        s.denial("denied.example.com:" + denied.port() + " is not in permissions.network.egress");
    }

    @Test
    void overlongRequestLineAndHeaders() throws Exception {
        Scene s = new Scene(usual());
        String target = "http://api.example.com:" + api.port() + "/";
        refused(s, get(target + "a".repeat(9000), "api.example.com:" + api.port()), 414, "request line longer than 8192 bytes");
        StringBuilder many = new StringBuilder("GET " + target + " HTTP/1.1\r\nHost: api.example.com:" + api.port() + "\r\n");
        for (int i = 0; i < 70; i++) many.append("X-Filler-").append(i).append(": ").append("b".repeat(1000)).append("\r\n");
        refused(s, many.append("\r\n").toString(), 431, "header fields longer than 65536 bytes");
        refused(s, "GET " + target + " HTTP/1.1\r\nX-Long: " + "c".repeat(9000) + "\r\n\r\n", 431, "a header line is longer than 8192 bytes");
    }

    @Test
    void malformedRequests() throws Exception {
        Scene s = new Scene(usual());
        String a = "api.example.com:" + api.port();
        refused(s, "GARBAGE\r\n\r\n", 400, "malformed request line \"GARBAGE\"");
        refused(s, "GET / HTTP/1.1\r\nHost: " + a + "\r\n\r\n", 400, "a proxy request needs an absolute http:// URI");
        refused(s, get("https://" + a + "/", a), 400, "https:// URLs go through a CONNECT tunnel");
        refused(s, get("http://" + a + "@denied.example.com/", "denied.example.com"), 400, "user info (user@host)");
        refused(s, "POST http://" + a + "/ HTTP/1.1\r\nHost: " + a + "\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                "both Content-Length and Transfer-Encoding");
        refused(s, "GET http://" + a + "/ HTTP/1.1\r\nHost: " + a + "\r\n folded: header\r\n\r\n", 400, "a folded header line");
        refused(s, "GET http://" + a + "/ HTTP/1.1\r\nHo\rst: x\r\n\r\n", 400, "a CR or NUL inside a line");
        refused(s, "CONNECT plain.example.com HTTP/1.1\r\n\r\n", 400, "names no port");
    }

    @Test
    void nameThatDoesNotResolve() throws Exception {
        Scene s = new Scene(List.of("*.example.com:80"));
        refused(s, get("http://nowhere.example.com/", "nowhere.example.com"), 502, "nowhere.example.com does not resolve");
    }

    @Test
    void slowClients() throws Exception {
        try (EgressProxy quick = new EgressProxy(audit, EgressConfig.defaults().withResolver(dns)
                .withHeaderTimeout(java.time.Duration.ofMillis(300)))) {
            Scene s = new Scene(usual());
            InetSocketAddress at = quick.openLoopback(s.grant);
            long t0 = System.nanoTime();
            try (Socket slow = new Socket(at.getAddress(), at.getPort())) {
                slow.setSoTimeout(10_000);
                slow.getOutputStream().write(("GET http://api.example.com:" + api.port() + "/ HTTP/1.1\r\nHost: api").getBytes(StandardCharsets.US_ASCII));
                Thread.sleep(150);
                slow.getOutputStream().write(".example".getBytes(StandardCharsets.US_ASCII)); // trickling keeps no connection alive
                assertThat(new String(slow.getInputStream().readAllBytes(), StandardCharsets.US_ASCII)).startsWith("HTTP/1.1 408");
            }
            assertThat((System.nanoTime() - t0) / 1_000_000).isBetween(250L, 5_000L);
            s.denial("request head not complete within 300 ms");
            // A TLS-only tunnel must show its ClientHello within the same time.
            try (Socket t = tunnel(at, "secure.example.com:" + secure.port())) {
                assertThat(t.getInputStream().read()).isEqualTo(-1);
            }
            s.denial("no TLS ClientHello within 300 ms");
            assertThat(secure.hits.get()).isZero();
        }
    }

    @Test
    void dnsRebindingReachesOnlyTheCheckedAddress() throws Exception {
        // The name answers a listed address and loopback in turn; the proxy connects to what it checked, so the
        // server waiting on 127.0.0.1 (same port) never sees a request.
        java.util.concurrent.atomic.AtomicInteger lookups = new java.util.concurrent.atomic.AtomicInteger();
        Resolver flipping = name -> ips(lookups.getAndIncrement() % 2 == 0 ? "127.0.0.2" : "127.0.0.1");
        int p = api.port();
        try (Servers.Web trap = new Servers.Web(com.sun.net.httpserver.HttpServer.create(new InetSocketAddress("127.0.0.1", p), 8), "trap");
             EgressProxy rebinding = new EgressProxy(audit, EgressConfig.defaults().withResolver(flipping))) {
            Scene s = new Scene(List.of("rebind.example.com:" + p, "127.0.0.2:" + p));
            InetSocketAddress at = rebinding.openLoopback(s.grant);
            int ok = 0;
            for (int i = 0; i < 10; i++) {
                String r = exchange(at, get("http://rebind.example.com:" + p + "/", "rebind.example.com:" + p));
                if (r.startsWith("HTTP/1.1 200")) ok++;
                else assertThat(r).startsWith("HTTP/1.1 403").contains("loopback address 127.0.0.1");
            }
            assertThat(ok).isEqualTo(5);
            assertThat(trap.hits.get()).isZero();
            s.denial("rebind.example.com resolves to loopback address 127.0.0.1");
        }
    }

    @Test
    void tooManyConnectionsFromOneInstance() throws Exception {
        try (EgressProxy small = new EgressProxy(audit, EgressConfig.defaults().withResolver(dns).withMaxConnections(2))) {
            Scene s = new Scene(usual());
            InetSocketAddress at = small.openLoopback(s.grant);
            try (Socket a = new Socket(at.getAddress(), at.getPort()); Socket b = new Socket(at.getAddress(), at.getPort())) {
                a.getOutputStream().write('G');
                b.getOutputStream().write('G');
                Thread.sleep(200); // both accepted and counted
                assertThat(exchange(at, get("http://api.example.com:" + api.port() + "/", "api.example.com:" + api.port())))
                        .startsWith("HTTP/1.1 503");
            }
            s.denial("more than 2 open connections to the egress proxy from this instance");
            // Closed connections free their places.
            long until = System.nanoTime() + 5_000_000_000L;
            String r;
            do {
                r = exchange(at, get("http://api.example.com:" + api.port() + "/", "api.example.com:" + api.port()));
            } while (!r.startsWith("HTTP/1.1 200") && System.nanoTime() < until);
            assertThat(r).startsWith("HTTP/1.1 200");
        }
    }

    /** TLS through a CONNECT tunnel with {@code sni} as the server name (none when null). */
    private static void handshake(InetSocketAddress at, String authority, String sni) throws IOException {
        try (Socket t = tunnel(at, authority);
             SSLSocket ssl = (SSLSocket) tls.client().getSocketFactory().createSocket(t, authority.substring(0, authority.indexOf(':')),
                     t.getPort(), true)) {
            SSLParameters p = ssl.getSSLParameters();
            p.setServerNames(sni == null ? List.of() : new ArrayList<>(List.of(new SNIHostName(sni))));
            ssl.setSSLParameters(p);
            ssl.startHandshake();
            ssl.getOutputStream().write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            if (ssl.getInputStream().read() < 0) throw new IOException("closed");
        }
    }
}
