package dev.aegis.bench;

import dev.aegis.cli.Node;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Synchronous tasks through the HTTP API (key check, policy, sandbox, SQLite store) of a trivial shell agent, one
 * at a time, beside the same agent as a raw bwrap command line. Prints p50/p99 and the ratio.
 */
public final class ApiBench {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 500;
        Path tmp = Files.createTempDirectory("aegis-bench-api");
        Path agent = Files.createDirectories(tmp.resolve("trivial"));
        Files.writeString(agent.resolve("agent.yaml"), """
                name: trivial
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["sh", "-c", "cat >/dev/null; echo '{\\"ok\\": true}'"]
                """);
        try (Node node = new Node(Node.Config.embedded(tmp.resolve("data")).withApi("127.0.0.1", 0, List.of(tmp)))) {
            String key = node.firstAdminKey().orElseThrow();
            HttpClient http = HttpClient.newHttpClient();
            send(http, node.url() + "/v1/agents", key, "{\"path\": \"" + agent + "\"}", 201);
            String body = "{\"agent\": \"trivial\", \"input\": {}, \"wait\": true}";
            Path runDir = Files.createDirectories(tmp.resolve("raw-run"));
            Files.writeString(runDir.resolve("task.json"), "{}");
            List<String> raw = RawBwrap.argv(agent, runDir, tmp.resolve("data/run/agent.sock"), tmp.resolve("data/lib/python"),
                    List.of("sh", "-c", "cat >/dev/null; echo '{\"ok\": true}'"));
            System.out.println("warming up (30 tasks)...");
            for (int i = 0; i < 30; i++) send(http, node.url() + "/v1/tasks", key, body, 200);
            double[] api = new double[runs], rawMs = new double[runs];
            for (int i = 0; i < runs; i++) {
                long t0 = System.nanoTime();
                RawBwrap.run(raw, "{}");
                rawMs[i] = (System.nanoTime() - t0) / 1e6;
                t0 = System.nanoTime();
                send(http, node.url() + "/v1/tasks", key, body, 200);
                api[i] = (System.nanoTime() - t0) / 1e6;
                if ((i + 1) % 100 == 0) System.out.println("  " + (i + 1) + "/" + runs);
            }
            Stats r = Stats.of(rawMs), a = Stats.of(api);
            System.out.println(r.row("raw bwrap (same agent)"));
            System.out.println(a.row("POST /v1/tasks wait=true"));
            System.out.printf("ratio API/raw: p50 %.2fx  p99 %.2fx;  API p50 %.1f ms (target < 50 ms)%n",
                    a.p50() / r.p50(), a.p99() / r.p99(), a.p50());
        }
    }

    private static void send(HttpClient http, String url, String key, String body, int want) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
        if (r.statusCode() != want || (want == 200 && !r.body().contains("\"succeeded\"")))
            throw new IllegalStateException("HTTP " + r.statusCode() + ": " + r.body());
    }
}
