package dev.aegis.security;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * Real servers on 127.0.0.x standing in for internet hosts: HTTP and HTTPS (a self-signed certificate made
 * with the JDK's keytool) with a few routes, and a raw TCP echo server. Each counts what reaches it, so a test
 * can prove that a denied attempt never got there.
 */
final class Servers {
    private Servers() {}

    /** An HTTP(S) server named {@code name}, counting requests. */
    static final class Web implements AutoCloseable {
        final HttpServer server;
        final AtomicLong hits = new AtomicLong();
        final String name;

        Web(HttpServer server, String name) {
            this.server = server;
            this.name = name;
            server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
            server.createContext("/", this::handle);
            server.start();
        }

        int port() {
            return server.getAddress().getPort();
        }

        private void handle(HttpExchange x) throws IOException {
            hits.incrementAndGet();
            byte[] in = x.getRequestBody().readAllBytes();
            String path = x.getRequestURI().getPath();
            String query = x.getRequestURI().getRawQuery();
            switch (path) {
                case "/redirect" -> {
                    x.getResponseHeaders().add("Location", query.substring("to=".length()));
                    x.sendResponseHeaders(302, -1);
                }
                case "/big" -> {
                    int n = Integer.parseInt(query.substring("n=".length()));
                    byte[] body = new byte[n];
                    for (int i = 0; i < n; i++) body[i] = (byte) i;
                    x.sendResponseHeaders(200, n);
                    try (OutputStream o = x.getResponseBody()) {
                        o.write(body);
                    }
                }
                case "/chunked" -> {
                    x.sendResponseHeaders(200, 0);
                    try (OutputStream o = x.getResponseBody()) {
                        for (int i = 0; i < 3; i++) {
                            o.write(("part " + i + ";").getBytes(StandardCharsets.US_ASCII));
                            o.flush();
                        }
                    }
                }
                default -> {
                    byte[] body = (name + " " + x.getRequestMethod() + " " + path + " host=" + x.getRequestHeaders().getFirst("Host")
                            + " body=" + in.length).getBytes(StandardCharsets.UTF_8);
                    x.sendResponseHeaders(200, body.length);
                    try (OutputStream o = x.getResponseBody()) {
                        o.write(body);
                    }
                }
            }
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    static Web http(String ip, String name) throws IOException {
        return new Web(HttpServer.create(new InetSocketAddress(InetAddress.getByName(ip), 0), 64), name);
    }

    static Web https(String ip, String name, SSLContext tls) throws IOException {
        HttpsServer s = HttpsServer.create(new InetSocketAddress(InetAddress.getByName(ip), 0), 64);
        s.setHttpsConfigurator(new HttpsConfigurator(tls));
        return new Web(s, name);
    }

    /** A server key pair and certificate for {@code names}, and a client context trusting just that certificate. */
    record Tls(SSLContext server, SSLContext client) {
        static Tls selfSigned(Path dir, String... names) throws Exception {
            Path store = dir.resolve("server.p12");
            Files.deleteIfExists(store);
            StringBuilder san = new StringBuilder();
            for (String n : names) san.append(san.isEmpty() ? "" : ",").append("dns:").append(n);
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                    "-genkeypair", "-alias", "server", "-keyalg", "EC", "-groupname", "secp256r1", "-validity", "2",
                    "-dname", "CN=" + names[0], "-ext", "SAN=" + san, "-keystore", store.toString(),
                    "-storetype", "PKCS12", "-storepass", "changeit", "-keypass", "changeit")
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (p.waitFor() != 0) throw new IllegalStateException("keytool failed: " + out);
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store)) {
                ks.load(in, "changeit".toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, "changeit".toCharArray());
            SSLContext server = SSLContext.getInstance("TLS");
            server.init(kmf.getKeyManagers(), null, null);
            Certificate cert = ks.getCertificate("server");
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("server", cert);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            SSLContext client = SSLContext.getInstance("TLS");
            client.init(null, tmf.getTrustManagers(), null);
            return new Tls(server, client);
        }
    }

    /** A TCP server that echoes what it gets and counts the bytes. */
    static final class Echo implements AutoCloseable {
        final ServerSocket server;
        final AtomicLong received = new AtomicLong();

        Echo(String ip) throws IOException {
            server = new ServerSocket(0, 64, InetAddress.getByName(ip));
            Thread.ofVirtual().start(() -> {
                while (!server.isClosed()) {
                    try {
                        Socket s = server.accept();
                        Thread.ofVirtual().start(() -> echo(s));
                    } catch (IOException e) {
                        return;
                    }
                }
            });
        }

        int port() {
            return server.getLocalPort();
        }

        private void echo(Socket s) {
            try (s) {
                byte[] buf = new byte[8192];
                for (int n; (n = s.getInputStream().read(buf)) > 0; ) {
                    received.addAndGet(n);
                    s.getOutputStream().write(buf, 0, n);
                }
            } catch (IOException ignored) {
                // the test closed it
            }
        }

        @Override
        public void close() throws IOException {
            server.close();
        }
    }
}
