package dev.aegis.bench;

import dev.aegis.cli.Node;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Task;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Sustained throughput of trivial tasks with a warm pool: {@code clients} submitters each run tasks back to back
 * for the given seconds. Beside it, raw bwrap runs of the same command with the same concurrency for 10 s.
 */
public final class ThroughputBench {
    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 60;
        int clients = args.length > 1 ? Integer.parseInt(args[1]) : 8;
        Path tmp = Files.createTempDirectory("aegis-bench-tput");
        Path agent = Files.createDirectories(tmp.resolve("trivial"));
        Files.writeString(agent.resolve("agent.yaml"), """
                name: trivial
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["sh", "-c", "cat >/dev/null; echo '{}'"]
                pool: {warm: 8, max: 16}
                """);
        Path runDir = Files.createDirectories(tmp.resolve("raw-run"));
        Files.writeString(runDir.resolve("task.json"), "{}");
        List<String> raw = RawBwrap.argv(agent, runDir, tmp.resolve("data/run/agent.sock"), tmp.resolve("data/lib/python"),
                List.of("sh", "-c", "cat >/dev/null; echo '{}'"));
        try (Node node = new Node(Node.Config.embedded(tmp.resolve("data")).with(dev.aegis.core.OperatorLimits.DEFAULT,
                clients * 2, Duration.ofMinutes(5)))) {
            Orchestrator o = node.orchestrator();
            o.deploy("default", agent, "trivial/agent.yaml");
            while (o.warmCount() < 8) Thread.sleep(10);
            double rawRate = loop(clients, 10, () -> RawBwrap.run(raw, "{}"));
            System.out.printf("raw bwrap, %d clients:        %.1f runs/s%n", clients, rawRate);
            AtomicInteger failed = new AtomicInteger();
            double rate = loop(clients, seconds, () -> {
                Task t = o.submit("default", "trivial", "{}");
                Task end = o.await("default", t.id(), Duration.ofSeconds(30));
                if (end.result().isEmpty()) {
                    failed.incrementAndGet();
                    System.out.println("  failed: " + end.error());
                }
                return "";
            });
            System.out.printf("AEGIS tasks, %d clients, %d s: %.1f tasks/s, %d failed (target >= 50/s, 0 failed)%n",
                    clients, seconds, rate, failed.get());
            System.out.printf("ratio AEGIS/raw: %.2fx%n", rate / rawRate);
        }
    }

    interface Work {
        Object run() throws Exception;
    }

    private static double loop(int clients, int seconds, Work work) throws Exception {
        long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
        AtomicLong done = new AtomicLong();
        long t0 = System.nanoTime();
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<?>> all = new ArrayList<>();
            for (int c = 0; c < clients; c++)
                all.add(pool.submit(() -> {
                    while (System.nanoTime() < end) {
                        work.run();
                        done.incrementAndGet();
                    }
                    return null;
                }));
            for (Future<?> f : all) f.get();
        }
        return done.get() / ((System.nanoTime() - t0) / 1e9);
    }
}
