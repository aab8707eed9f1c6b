package dev.aegis.runtime.docker;

import dev.aegis.core.Outcome;

import java.util.ArrayList;
import java.util.List;

/**
 * Benchmark, run by hand (not a test): spawn→execute→terminate of a trivial agent through DockerRuntime versus
 * {@code docker run --rm --network none <image> sh -c 'echo {}'}, interleaved so both see the same machine state.
 * Usage: java -cp <test classpath> dev.aegis.runtime.docker.StartLatency [runs]
 */
public final class StartLatency {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        List<Double> ours = new ArrayList<>(), cli = new ArrayList<>(), spawn = new ArrayList<>(), exec = new ArrayList<>(), term = new ArrayList<>();
        try (Fixture f = new Fixture()) {
            for (int i = 0; i < runs + 3; i++) {
                long t0 = System.nanoTime();
                var id = f.runtime.spawn(f.spec(Fixture.SMALL, "/bin/sh", "-c", "echo {}"));
                long t1 = System.nanoTime();
                Outcome o = f.runtime.execute(id, "{}", l -> {});
                long t2 = System.nanoTime();
                f.runtime.terminate(id);
                long t3 = System.nanoTime();
                double a = (t3 - t0) / 1e6, sp = (t1 - t0) / 1e6, ex = (t2 - t1) / 1e6, te = (t3 - t2) / 1e6;
                if (!(o instanceof Outcome.Exited e && e.output().equals("{}\n"))) throw new IllegalStateException("unexpected " + o);
                t0 = System.nanoTime();
                Process p = new ProcessBuilder("docker", "run", "--rm", "--network", "none", DockerRuntime.DEFAULT_IMAGE, "sh", "-c", "echo {}")
                        .redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes());
                if (p.waitFor() != 0 || !out.equals("{}\n")) throw new IllegalStateException("docker run: " + out);
                double b = (System.nanoTime() - t0) / 1e6;
                if (i >= 3) { // the first runs warm up the JIT and the engine
                    ours.add(a);
                    spawn.add(sp);
                    exec.add(ex);
                    term.add(te);
                    cli.add(b);
                }
            }
        }
        System.out.printf("DockerRuntime spawn+execute+terminate: p50 %.0f ms, p90 %.0f ms (n=%d)%n", pct(ours, 50), pct(ours, 90), runs);
        System.out.printf("  of which spawn p50 %.0f ms, execute (warm) p50 %.0f ms, terminate p50 %.0f ms%n", pct(spawn, 50), pct(exec, 50), pct(term, 50));
        System.out.printf("docker run --rm --network none:        p50 %.0f ms, p90 %.0f ms (n=%d)%n", pct(cli, 50), pct(cli, 90), runs);
        System.out.printf("ratio (ours / docker run) at p50: %.2f%n", pct(ours, 50) / pct(cli, 50));
    }

    static double pct(List<Double> xs, int p) {
        List<Double> s = xs.stream().sorted().toList();
        return s.get(Math.min(s.size() - 1, (int) Math.ceil(p / 100.0 * s.size()) - 1));
    }
}
