package dev.aegis.bench;

import dev.aegis.audit.FileAuditLog;
import dev.aegis.core.EgressRule;
import dev.aegis.core.InstanceId;
import dev.aegis.security.EgressConfig;
import dev.aegis.core.EgressGrant;
import dev.aegis.security.EgressProxy;
import dev.aegis.security.Resolver;
import io.javalin.Javalin;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Egress proxy cost: the same JDK HTTP client (HTTP/1.1, keep-alive) against a local server on 127.0.0.2, once
 * directly and once through the egress proxy (its loopback listener, the real policy check with name resolution,
 * the real hash-chained audit log), interleaved request by request so that both see the same machine load.
 * Small requests: latency p50/p99; 1 MiB downloads: throughput. Usage: EgressBench [small requests] [downloads].
 */
public final class EgressBench {
    private static final String NAME = "origin.bench.example";

    public static void main(String[] args) throws Exception {
        int small = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int downloads = args.length > 1 ? Integer.parseInt(args[1]) : 300;
        Path tmp = Files.createTempDirectory("aegis-bench-egress");
        byte[] mib = new byte[1 << 20];
        for (int i = 0; i < mib.length; i++) mib[i] = (byte) i;
        Javalin origin = Javalin.create(cfg -> {
            cfg.concurrency.useVirtualThreads = true;
            cfg.startup.showJavalinBanner = false;
            cfg.routes.get("/small", ctx -> ctx.result("{\"ok\":true,\"n\":42}"));
            cfg.routes.get("/mib", ctx -> ctx.result(mib));
        }).start("127.0.0.2", 0);
        int port = origin.port();
        try (FileAuditLog audit = FileAuditLog.open(tmp.resolve("audit"));
             EgressProxy proxy = new EgressProxy(audit, EgressConfig.defaults()
                     .withResolver(Resolver.of(Map.of(NAME, List.of(InetAddress.getByName("127.0.0.2"))))))) {
            List<EgressRule> rules = List.of(EgressRule.parse(NAME + ":" + port), EgressRule.parse("127.0.0.2:" + port));
            EgressGrant grant = new EgressGrant("bench", "bench", new InstanceId("i-bench"), () -> Optional.of("task-bench"), () -> rules);
            InetSocketAddress listener = proxy.openLoopback(grant);
            int relayPort = relay(port);
            try (HttpClient direct = client(null); HttpClient proxied = client(listener); HttpClient relayed = client(null)) {
                URI relaySmall = URI.create("http://127.0.0.1:" + relayPort + "/small");
                URI directSmall = URI.create("http://127.0.0.2:" + port + "/small");
                URI proxiedSmall = URI.create("http://" + NAME + ":" + port + "/small");
                URI directMib = URI.create("http://127.0.0.2:" + port + "/mib");
                URI proxiedMib = URI.create("http://" + NAME + ":" + port + "/mib");
                System.out.printf("egress bench: %d small requests, %d x 1 MiB downloads, keep-alive, interleaved; origin 127.0.0.2:%d (Jetty)%n",
                        small, downloads, port);
                for (int i = 0; i < 3000; i++) { // warm every path: JIT, connection pools
                    get(direct, directSmall);
                    get(proxied, proxiedSmall);
                    get(relayed, relaySmall);
                }
                for (int i = 0; i < 30; i++) {
                    get(direct, directMib);
                    get(proxied, proxiedMib);
                }
                double[][] lat = run(small, new HttpClient[] {direct, proxied, relayed}, new URI[] {directSmall, proxiedSmall, relaySmall});
                URI relayMib = URI.create("http://127.0.0.1:" + relayPort + "/mib");
                double[][] big = run(downloads, new HttpClient[] {direct, proxied, relayed}, new URI[] {directMib, proxiedMib, relayMib});
                Stats d = Stats.of(lat[0]);
                Stats p = Stats.of(lat[1]);
                Stats h = Stats.of(lat[2]);
                System.out.println(d.row("small GET, direct"));
                System.out.println(p.row("small GET, through the proxy"));
                System.out.println(h.row("small GET, bare TCP relay"));
                System.out.printf("%-34s p50 %.2fx   (a relay that only copies bytes: what any extra hop costs here)%n", "latency ratio relay/direct",
                        h.p50() / d.p50());
                System.out.printf("%-34s p50 %.2fx  p99 %.2fx   (target p50 <= 1.2x); added p50 %.0f us%n", "latency ratio proxy/direct",
                        p.p50() / d.p50(), p.p99() / d.p99(), (p.p50() - d.p50()) * 1000);
                // MiB/s from the median download, as the mean of a shared 2-core machine is its worst stalls.
                double dt = 1000 / Stats.of(big[0]).p50();
                double pt = 1000 / Stats.of(big[1]).p50();
                double rt = 1000 / Stats.of(big[2]).p50();
                System.out.println(Stats.of(big[0]).row("1 MiB GET, direct"));
                System.out.println(Stats.of(big[1]).row("1 MiB GET, through the proxy"));
                System.out.println(Stats.of(big[2]).row("1 MiB GET, bare TCP relay"));
                System.out.printf("%-34s direct %.0f MiB/s  proxy %.0f MiB/s  ratio %.2f   (target >= 0.80); bare relay %.2f%n",
                        "1 MiB throughput (median)", dt, pt, pt / dt, rt / dt);
                System.out.printf("%-34s %,d bytes through the proxy; %,d audit records%n", "egress metered", proxy.egressBytes(grant.instance()),
                        audit.lastSeq());
            }
        } finally {
            origin.stop();
        }
    }

    /** A loopback TCP relay to 127.0.0.2:{@code port} that copies bytes and nothing else; returns its port. */
    private static int relay(int port) throws Exception {
        java.net.ServerSocket server = new java.net.ServerSocket(0, 64, InetAddress.getLoopbackAddress());
        Thread.ofVirtual().start(() -> {
            while (true) {
                try {
                    java.net.Socket in = server.accept();
                    java.net.Socket out = new java.net.Socket(InetAddress.getByName("127.0.0.2"), port);
                    in.setTcpNoDelay(true);
                    out.setTcpNoDelay(true);
                    Thread.ofVirtual().start(() -> pipe(in, out));
                    Thread.ofVirtual().start(() -> pipe(out, in));
                } catch (java.io.IOException e) {
                    return;
                }
            }
        });
        return server.getLocalPort();
    }

    private static void pipe(java.net.Socket from, java.net.Socket to) {
        try {
            from.getInputStream().transferTo(to.getOutputStream());
        } catch (java.io.IOException ignored) {
            // closed
        }
    }

    private static HttpClient client(InetSocketAddress proxy) {
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1);
        if (proxy != null) b.proxy(ProxySelector.of(proxy));
        return b.build();
    }

    /** Latencies in ms per path, taking one request on each path in turn so that all see the same load. */
    private static double[][] run(int n, HttpClient[] clients, URI[] uris) throws Exception {
        double[][] out = new double[clients.length][n];
        for (int i = 0; i < n; i++)
            for (int c = 0; c < clients.length; c++) out[c][i] = get(clients[c], uris[c]);
        return out;
    }

    private static double get(HttpClient c, URI uri) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) throw new IllegalStateException(uri + " answered " + r.statusCode() + ": " + new String(r.body()));
        return (System.nanoTime() - t0) / 1e6;
    }

}
