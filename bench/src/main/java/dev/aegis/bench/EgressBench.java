package dev.aegis.bench;

import dev.aegis.audit.FileAuditLog;
import dev.aegis.core.EgressRule;
import dev.aegis.core.InstanceId;
import dev.aegis.security.EgressConfig;
import dev.aegis.security.EgressGrant;
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
        int downloads = args.length > 1 ? Integer.parseInt(args[1]) : 100;
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
            try (HttpClient direct = client(null); HttpClient proxied = client(listener)) {
                URI directSmall = URI.create("http://127.0.0.2:" + port + "/small");
                URI proxiedSmall = URI.create("http://" + NAME + ":" + port + "/small");
                URI directMib = URI.create("http://127.0.0.2:" + port + "/mib");
                URI proxiedMib = URI.create("http://" + NAME + ":" + port + "/mib");
                System.out.printf("egress bench: %d small requests, %d x 1 MiB downloads, keep-alive, interleaved; origin 127.0.0.2:%d (Jetty)%n",
                        small, downloads, port);
                for (int i = 0; i < 3000; i++) { // warm both paths: JIT, connection pools
                    get(direct, directSmall);
                    get(proxied, proxiedSmall);
                }
                for (int i = 0; i < 30; i++) {
                    get(direct, directMib);
                    get(proxied, proxiedMib);
                }
                double[][] lat = run(small, direct, directSmall, proxied, proxiedSmall);
                double[][] big = run(downloads, direct, directMib, proxied, proxiedMib);
                Stats d = Stats.of(lat[0]);
                Stats p = Stats.of(lat[1]);
                System.out.println(d.row("small GET, direct"));
                System.out.println(p.row("small GET, through the proxy"));
                System.out.printf("%-34s p50 %.2fx  p99 %.2fx   (target p50 <= 1.2x); added p50 %.0f us%n", "latency ratio proxy/direct",
                        p.p50() / d.p50(), p.p99() / d.p99(), (p.p50() - d.p50()) * 1000);
                double dt = throughput(big[0]);
                double pt = throughput(big[1]);
                System.out.println(Stats.of(big[0]).row("1 MiB GET, direct"));
                System.out.println(Stats.of(big[1]).row("1 MiB GET, through the proxy"));
                System.out.printf("%-34s direct %.0f MiB/s  proxy %.0f MiB/s  ratio %.2f   (target >= 0.80)%n", "1 MiB download throughput",
                        dt, pt, pt / dt);
                System.out.printf("%-34s %,d bytes through the proxy; %,d audit records%n", "egress metered", proxy.egressBytes(grant.instance()),
                        audit.lastSeq());
            }
        } finally {
            origin.stop();
        }
    }

    private static HttpClient client(InetSocketAddress proxy) {
        HttpClient.Builder b = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1);
        if (proxy != null) b.proxy(ProxySelector.of(proxy));
        return b.build();
    }

    /** Latencies in ms, [0] direct and [1] through the proxy, alternating one request each. */
    private static double[][] run(int n, HttpClient direct, URI d, HttpClient proxied, URI p) throws Exception {
        double[][] out = new double[2][n];
        for (int i = 0; i < n; i++) {
            out[0][i] = get(direct, d);
            out[1][i] = get(proxied, p);
        }
        return out;
    }

    private static double get(HttpClient c, URI uri) throws Exception {
        long t0 = System.nanoTime();
        HttpResponse<byte[]> r = c.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofByteArray());
        if (r.statusCode() != 200) throw new IllegalStateException(uri + " answered " + r.statusCode() + ": " + new String(r.body()));
        return (System.nanoTime() - t0) / 1e6;
    }

    /** MiB/s over all downloads of 1 MiB, each taking the given ms. */
    private static double throughput(double[] millis) {
        double total = 0;
        for (double m : millis) total += m;
        return millis.length / (total / 1000);
    }
}
