package dev.aegis.bench;

import dev.aegis.cli.Node;
import dev.aegis.core.LogLine;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Task;
import dev.aegis.core.TaskEvents;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;

/**
 * Warm dispatch: from the task's acceptance (submit() returned: the task and its audit record are durable) to the
 * moment the agent has its input (it echoes a line to stderr as soon as it read the task), with a warm pool, one task
 * at a time; also from the call of submit(). Beside it, the same measures with no pool (cold start).
 */
public final class WarmBench {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 300;
        Path tmp = Files.createTempDirectory("aegis-bench-warm");
        try (Node node = new Node(Node.Config.embedded(tmp.resolve("data")))) {
            Orchestrator o = node.orchestrator();
            Stats[] warm = measure(o, deploy(o, tmp, "warm", "pool: {warm: 4, max: 8}\n"), runs, true);
            Stats[] cold = measure(o, deploy(o, tmp, "cold", "pool: {warm: 0, max: 8}\n"), runs, false);
            System.out.println(cold[0].row("cold: submit called -> input"));
            System.out.println(warm[0].row("warm: submit called -> input"));
            System.out.println(cold[1].row("cold: accepted -> input"));
            System.out.println(warm[1].row("warm: accepted -> input"));
            System.out.printf("ratio warm/cold (accepted -> input) p50 %.2fx; warm p50 %.2f ms (target < 5 ms)%n",
                    warm[1].p50() / cold[1].p50(), warm[1].p50());
        }
    }

    private static String deploy(Orchestrator o, Path tmp, String name, String pool) throws Exception {
        Path dir = Files.createDirectories(tmp.resolve(name));
        Files.writeString(dir.resolve("agent.yaml"), "name: " + name + "\nversion: 1.0.0\nruntime: bubblewrap\n"
                + "entrypoint: [\"sh\", \"-c\", \"read -r line; echo got >&2; echo {}\"]\n" + pool);
        o.deploy("default", dir, name + "/agent.yaml");
        return name;
    }

    private static Stats[] measure(Orchestrator o, String agent, int runs, boolean warm) throws Exception {
        System.out.println((warm ? "warm" : "cold") + ": " + runs + " tasks, one at a time...");
        double[] ms = new double[runs], fromAccepted = new double[runs];
        int coldStarts = 0;
        for (int i = -20; i < runs; i++) {
            if (warm) while (o.warmCount() < 1) Thread.sleep(1); // a pool refills between tasks; we measure dispatch
            CompletableFuture<Long> got = new CompletableFuture<>();
            long t0 = System.nanoTime();
            Task t = o.submit("default", agent, "{}\n", Orchestrator.DEFAULT_PRIORITY, new TaskEvents.Listener() {
                public void line(LogLine line) {
                    if (line.line().equals("got")) got.complete(System.nanoTime());
                }

                public void ended(Task task) {
                    got.complete(-1L);
                }
            });
            long accepted = System.nanoTime();
            long at = got.get();
            Task end = o.await("default", t.id(), Duration.ofSeconds(30));
            if (at < 0 || end.result().isEmpty()) throw new IllegalStateException("task failed: " + end);
            if (i < 0) continue;
            ms[i] = (at - t0) / 1e6;
            fromAccepted[i] = Math.max(0, at - accepted) / 1e6;
            if (!o.transitions("default", t.id()).get(1).reason().contains("warm pool")) coldStarts++;
        }
        if (warm) System.out.println("  (" + coldStarts + " of " + runs + " found no warm instance)");
        return new Stats[] {Stats.of(ms), Stats.of(fromAccepted)};
    }

}
