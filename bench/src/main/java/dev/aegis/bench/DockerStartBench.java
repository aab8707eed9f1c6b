package dev.aegis.bench;

import dev.aegis.core.InstanceId;
import dev.aegis.core.Manifest;
import dev.aegis.core.Outcome;
import dev.aegis.core.SandboxSpec;
import dev.aegis.runtime.docker.DockerRuntime;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Docker cold start: AEGIS {@code spawn}+{@code execute}+{@code terminate} of a trivial agent vs
 * {@code docker run --rm --network none} of the same image and command, interleaved run by run. Prints p50/p99
 * and the ratio. Needs the engine and image: {@code tools/docker-image.sh}.
 */
public final class DockerStartBench {
    public static void main(String[] args) throws Exception {
        int runs = args.length > 0 ? Integer.parseInt(args[0]) : 50;
        Path tmp = Files.createTempDirectory("aegis-bench-docker");
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path agentDir = Files.createDirectories(tmp.resolve("agent"));
        Path lib = Files.createDirectories(tmp.resolve("lib"));
        Path socket = tmp.resolve("agent.sock");
        List<String> command = List.of("sh", "-c", "cat >/dev/null; echo '{}'");
        try (ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
             DockerRuntime runtime = new DockerRuntime(tmp.resolve("state"))) {
            server.bind(UnixDomainSocketAddress.of(socket));
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw-rw-"));
            if (!runtime.isApplicable()) throw new IllegalStateException(runtime.description());
            System.out.println("runtime: " + runtime.description());
            Manifest m = new Manifest("bench", "1.0.0", "docker", command, Optional.of(DockerRuntime.DEFAULT_IMAGE),
                    Manifest.Resources.DEFAULT, Manifest.Permissions.NONE, List.of(), Manifest.Pool.DEFAULT);
            List<String> raw = List.of("docker", "run", "--rm", "-i", "--network", "none", DockerRuntime.DEFAULT_IMAGE,
                    "sh", "-c", "cat >/dev/null; echo '{}'");
            double[] rawMs = new double[runs], aegisMs = new double[runs];
            for (int i = -3; i < runs; i++) {
                long t0 = System.nanoTime();
                RawBwrap.run(raw, "{}");
                double r = (System.nanoTime() - t0) / 1e6;
                t0 = System.nanoTime();
                InstanceId id = new InstanceId("d-" + (i + 3));
                runtime.spawn(new SandboxSpec(id, m, agentDir, socket, lib, Optional.empty(), Map.of(), List.of(), SandboxSpec.OutputLimits.DEFAULT));
                try {
                    Outcome o = runtime.execute(id, "{}", line -> { });
                    if (!(o instanceof Outcome.Exited(int code, String out, boolean t)) || code != 0 || !out.strip().equals("{}"))
                        throw new IllegalStateException("unexpected outcome " + o);
                } finally {
                    runtime.terminate(id);
                }
                double a = (System.nanoTime() - t0) / 1e6;
                if (i < 0) continue; // warm-up: engine caches and JIT
                rawMs[i] = r;
                aegisMs[i] = a;
                if ((i + 1) % 10 == 0) System.out.println("  " + (i + 1) + "/" + runs);
            }
            Stats r = Stats.of(rawMs), a = Stats.of(aegisMs);
            System.out.println(r.row("docker run --rm --network none"));
            System.out.println(a.row("AEGIS docker spawn+execute+term"));
            System.out.printf("ratio AEGIS/docker run: p50 %.2fx  p99 %.2fx  (target p50 <= 1.2x)%n", a.p50() / r.p50(), a.p99() / r.p99());
        }
    }
}
