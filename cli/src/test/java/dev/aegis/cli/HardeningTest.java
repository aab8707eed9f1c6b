package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.api.Transport;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS termination, CORS off, no stack traces in responses, and timeouts that cut silent or slow clients. */
class HardeningTest {
    @TempDir
    Path dir;

    @Test
    void tlsFromAPkcs12Keystore() throws Exception {
        Path keystore = dir.resolve("server.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
                "-alias", "aegis", "-keyalg", "EC", "-groupname", "secp256r1", "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", keystore.toString(), "-storepass", "test-pass", "-keypass", "test-pass")
                .redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes());
        assertThat(keytool.waitFor()).as(out).isZero();

        assertThatThrownBy(() -> new Transport.Tls(keystore, "wrong")).hasMessageContaining("cannot be opened as PKCS12 with the given password");
        assertThatThrownBy(() -> new Transport.Tls(dir.resolve("missing.p12"), "x")).hasMessageContaining("is not a readable file");
        Transport tls = Transport.DEFAULT.withTls(new Transport.Tls(keystore, "test-pass"));
        assertThat(tls.toString()).doesNotContain("test-pass");

        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()).withTransport(tls))) {
            assertThat(node.url()).startsWith("https://127.0.0.1:");
            KeyStore server = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(keystore)) {
                server.load(in, "test-pass".toCharArray());
            }
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("aegis", server.getCertificate("aegis"));
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(null, tmf.getTrustManagers(), null);
            HttpClient client = HttpClient.newBuilder().sslContext(ssl).build();
            HttpResponse<String> r = client.send(HttpRequest.newBuilder(URI.create(node.url() + "/v1/agents"))
                    .header("Authorization", "Bearer " + node.firstAdminKey().orElseThrow()).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).contains("\"agents\"");
            assertThat(r.sslSession()).hasValueSatisfying(s -> assertThat(s.getProtocol()).startsWith("TLSv1."));
            // A client that does not trust the certificate gets no answer at all.
            assertThatThrownBy(() -> HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(node.url() + "/healthz")).build(),
                    HttpResponse.BodyHandlers.ofString())).isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
            // Plain HTTP on the TLS port is not served.
            try (Socket s = new Socket("127.0.0.1", Integer.parseInt(node.url().replaceAll(".*:", "")))) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                assertThat(new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1)).doesNotContain("\"status\":\"ok\"");
            }
        }
    }

    @Test
    void corsIsOffStackTracesNeverLeaveAndSilentOrSlowClientsAreCut() throws Exception {
        Transport quick = Transport.DEFAULT.withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(3));
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()).withTransport(quick))) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());

            // CORS: no browser origin is let in, and a preflight is not answered with permission.
            Http.Response cross = http.send(http.builder("/v1/agents").header("Origin", "https://evil.example").GET());
            assertThat(cross.status()).isEqualTo(200);
            assertThat(cross.raw().headers().map().keySet()).noneMatch(h -> h.toLowerCase().startsWith("access-control-"));
            Http.Response preflight = http.send(http.builder("/v1/agents").header("Origin", "https://evil.example")
                    .header("Access-Control-Request-Method", "POST").method("OPTIONS", HttpRequest.BodyPublishers.noBody()));
            assertThat(preflight.status()).isGreaterThanOrEqualTo(400);
            assertThat(preflight.raw().headers().map().keySet()).noneMatch(h -> h.toLowerCase().startsWith("access-control-"));

            // A long synchronous wait is not an idle connection: the task outlives the 1 s idle timeout.
            Path agent = Files.createDirectories(dir.resolve("slow"));
            Files.writeString(agent.resolve("agent.yaml"), """
                    name: slow
                    version: 1.0.0
                    runtime: bubblewrap
                    entrypoint: ["sh", "-c", "cat >/dev/null; sleep 2.5; echo '{}'"]
                    """);
            node.orchestrator().deploy("default", agent, "slow/agent.yaml");
            Http.Response waited = http.post("/v1/tasks", Map.of("agent", "slow", "wait", true));
            assertThat(waited.status()).as(waited.raw().body()).isEqualTo(200);
            assertThat(waited.body().path("state").asText()).isEqualTo("succeeded");

            // A client that sends half a request and goes quiet is cut after the idle timeout.
            long started = System.nanoTime();
            try (Socket s = new Socket("127.0.0.1", Integer.parseInt(node.url().replaceAll(".*:", "")))) {
                s.setSoTimeout(10_000);
                s.getOutputStream().write("GET /healthz HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII));
                String answer = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
                assertThat(answer).doesNotContain("\"status\":\"ok\"");
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofMillis(900), Duration.ofSeconds(5));

            // A body dribbled in just under the idle timeout is cut when the body timeout (3 s) passes.
            started = System.nanoTime();
            String cut;
            try (Socket s = new Socket("127.0.0.1", Integer.parseInt(node.url().replaceAll(".*:", "")))) {
                s.setSoTimeout(20_000);
                OutputStream out = s.getOutputStream();
                out.write(("POST /v1/tasks HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + node.firstAdminKey().orElseThrow()
                        + "\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                try {
                    for (int i = 0; i < 30; i++) {
                        Thread.sleep(400);
                        out.write(' ');
                        out.flush();
                    }
                } catch (java.io.IOException closed) {
                    // the server hung up: what we want
                }
                cut = new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
            } catch (java.net.SocketException reset) {
                cut = "reset";
            }
            assertThat(Duration.ofNanos(System.nanoTime() - started)).as(cut).isLessThan(Duration.ofSeconds(11));
            assertThat(cut).startsWith("HTTP/1.1 408").contains("\"request_timeout\"");

            // An internal error: the client gets the plain error body, the stack stays in the server log.
            node.audit().close();
            Http.Response broken = http.post("/v1/keys", Map.of("role", "reader"));
            assertThat(broken.status()).isEqualTo(500);
            assertThat(broken.raw().body()).isEqualTo("{\"error\":{\"code\":\"internal_error\",\"message\":\"internal error; the server log has details\"}}");
            Http.Response listed = http.get("/v1/tasks?limit=1");
            assertThat(listed.status()).as("reads do not need the audit log").isEqualTo(200);
        }
    }
}
