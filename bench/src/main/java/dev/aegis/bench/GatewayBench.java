package dev.aegis.bench;

import dev.aegis.api.RateLimits;
import dev.aegis.cli.Node;
import io.javalin.Javalin;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Gateway throughput with wrk (Debian package) on loopback: an authenticated {@code GET /v1/tasks/{id}}, a request
 * refused with 429 by the rate limiter, and beside them a bare Javalin hello-world route in this JVM, same settings.
 */
public final class GatewayBench {
    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 10;
        Path tmp = Files.createTempDirectory("aegis-bench-gateway");
        Path agent = Files.createDirectories(tmp.resolve("trivial"));
        Files.writeString(agent.resolve("agent.yaml"), """
                name: trivial
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["sh", "-c", "cat >/dev/null; echo '{}'"]
                """);
        Map<String, RateLimits.Limit> open = Map.of("deploy", new RateLimits.Limit(1_000_000, 1_000_000),
                "run", new RateLimits.Limit(1_000_000, 1_000_000), "read", new RateLimits.Limit(100_000_000, 100_000_000));
        Map<String, RateLimits.Limit> shut = Map.of("deploy", new RateLimits.Limit(1, 1), "run", new RateLimits.Limit(1, 1),
                "read", new RateLimits.Limit(1, 1));
        Javalin bare = Javalin.create(cfg -> {
            cfg.concurrency.useVirtualThreads = true;
            cfg.startup.showJavalinBanner = false;
            cfg.routes.get("/hello", ctx -> ctx.result("hello"));
        }).start("127.0.0.1", 0);
        try (Node node = new Node(Node.Config.embedded(tmp.resolve("a")).withApi("127.0.0.1", 0, List.of(tmp)).withRateLimits(open));
             Node limited = new Node(Node.Config.embedded(tmp.resolve("b")).withApi("127.0.0.1", 0, List.of()).withRateLimits(shut))) {
            String key = node.firstAdminKey().orElseThrow();
            node.orchestrator().deploy("default", agent, "trivial/agent.yaml");
            String id = node.orchestrator().submit("default", "trivial", "{}").id();
            node.orchestrator().await("default", id, java.time.Duration.ofSeconds(30));
            String limitedKey = limited.firstAdminKey().orElseThrow();
            // The task's memories are indexed in the background, after the embedding model loads (seconds of both
            // cores): measured before that is over, even the bare route would share the machine with it.
            System.out.println("waiting for Cortex to load its model and index the task...");
            node.memory().awaitIndexed(java.time.Duration.ofMinutes(2));
            limited.memory().preload().join();
            String[] urls = {"http://127.0.0.1:" + bare.port() + "/hello", node.url() + "/v1/tasks/" + id, limited.url() + "/v1/tasks/" + id};
            String[] keys = {null, key, limitedKey};
            int rounds = 5, each = Math.max(1, seconds / rounds), warm = Math.max(2, seconds / 3);
            System.out.println("wrk: 2 threads, 32 connections; each route warmed up for " + warm + " s (JIT), then " + rounds
                    + " rounds of " + each + " s per route, the routes taking turns (so all see the same machine); medians");
            for (int r = 0; r < urls.length; r++) wrk(warm, urls[r], keys[r]);
            double[][] rps = new double[urls.length][rounds], p99 = new double[urls.length][rounds];
            for (int round = 0; round < rounds; round++)
                for (int r = 0; r < urls.length; r++) {
                    double[] m = wrk(each, urls[r], keys[r]);
                    rps[r][round] = m[0];
                    p99[r][round] = m[1];
                }
            String[] names = {"bare Javalin GET /hello", "authenticated GET /v1/tasks/{id}", "rejected with 429 (rate limit)"};
            for (int r = 0; r < urls.length; r++)
                System.out.printf("%-40s %10.0f req/s  p99 %7.2f ms   (rounds: %s req/s)%n", names[r], median(rps[r]), median(p99[r]),
                        java.util.Arrays.stream(rps[r]).mapToObj(v -> String.format("%.0f", v)).toList());
            System.out.printf("gateway overhead (bare/authenticated req/s): %.2fx (target <= 1.5x); authenticated %.0f req/s "
                    + "(target >= 15,000)%n", median(rps[0]) / median(rps[1]), median(rps[1]));
        } finally {
            bare.stop();
        }
    }

    private static double median(double[] xs) {
        double[] c = xs.clone();
        java.util.Arrays.sort(c);
        return c[c.length / 2];
    }

    /** Requests/s and p99 latency in ms, from wrk's own report. */
    private static double[] wrk(int seconds, String url, String key) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("wrk", "-t2", "-c32", "-d" + seconds + "s", "--latency"));
        if (key != null) cmd.addAll(List.of("-H", "Authorization: Bearer " + key));
        cmd.add(url);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IllegalStateException("wrk failed (apt-get install wrk): " + out);
        Matcher rps = Pattern.compile("Requests/sec:\\s+([0-9.]+)").matcher(out);
        Matcher p99 = Pattern.compile("99%\\s+([0-9.]+)(us|ms|s)").matcher(out);
        if (!rps.find() || !p99.find()) throw new IllegalStateException("cannot read wrk's report: " + out);
        double lat = Double.parseDouble(p99.group(1)) * switch (p99.group(2)) {
            case "us" -> 0.001;
            case "s" -> 1000;
            default -> 1;
        };
        return new double[] {Double.parseDouble(rps.group(1)), lat};
    }
}
