package dev.aegis.cli;

import dev.aegis.core.OperatorLimits;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Quantities;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "server", mixinStandardHelpOptions = true,
        description = {"Runs an AEGIS node: the HTTP API, the agent API socket and the sandboxes.", "",
                "On first start it prints an admin API key once; keep it (only its hash is stored).", "",
                "Example:", "  aegis server --port 7070", "  export AEGIS_API_KEY=aeg_live_...; aegis agents deploy examples/summarizer"})
final class ServerCommand implements java.util.concurrent.Callable<Integer> {
    @Option(names = "--port", defaultValue = "7070", description = "TCP port of the HTTP API (default ${DEFAULT-VALUE}; 0 = any free port)")
    int port;

    @Option(names = "--host", defaultValue = "127.0.0.1", description = "address to bind (default ${DEFAULT-VALUE})")
    String host;

    @Option(names = "--data", description = "data folder (default $AEGIS_DATA, else ~/.aegis)")
    Path data;

    @Option(names = "--deploy-root", description = "host folder admins may deploy agents from by path (repeatable)")
    List<Path> deployRoots = new ArrayList<>();

    @Option(names = "--max-cpu", defaultValue = "2", description = "ceiling on a manifest's resources.cpu (default ${DEFAULT-VALUE})")
    double maxCpu;

    @Option(names = "--max-memory", defaultValue = "2Gi", description = "ceiling on resources.memory (default ${DEFAULT-VALUE})")
    String maxMemory;

    @Option(names = "--max-pids", defaultValue = "1024", description = "ceiling on resources.pids (default ${DEFAULT-VALUE})")
    int maxPids;

    @Option(names = "--max-disk", defaultValue = "1Gi", description = "ceiling on resources.disk (default ${DEFAULT-VALUE})")
    String maxDisk;

    @Option(names = "--max-timeout", defaultValue = "15m", description = "ceiling on resources.timeout (default ${DEFAULT-VALUE})")
    String maxTimeout;

    @Option(names = "--max-concurrent", description = "sandboxes running at once (default 4 per core)")
    Integer maxConcurrent;

    @Option(names = "--quota-tasks", defaultValue = "0", description = "per tenant: tasks queued or running at once (0 = no quota)")
    int quotaTasks;

    @Option(names = "--quota-cpu-seconds", defaultValue = "0", description = "per tenant: CPU-seconds a UTC day (0 = no quota)")
    double quotaCpu;

    @Option(names = "--secrets-key-file", description = "file holding the base64 AES-256 key for tenant secrets "
            + "(default $AEGIS_SECRETS_KEY, else <data>/secrets.key, made on first start)")
    Path secretsKeyFile;

    @Option(names = "--nats", description = "run the message bus on this NATS server (e.g. nats://127.0.0.1:4222, with JetStream); "
            + "default: in this process")
    String nats;

    private static <T> T option(String name, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage());
        }
    }

    @Override
    public Integer call() throws InterruptedException {
        // The server's console shows one JSON access-log line per request; other commands keep it quiet.
        System.setProperty("org.slf4j.simpleLogger.log.dev.aegis.api.access", "info");
        Path dir = DataDir.resolve(data);
        OperatorLimits limits = new OperatorLimits(maxCpu, option("--max-memory", () -> Quantities.bytes(maxMemory)), maxPids,
                option("--max-disk", () -> Quantities.bytes(maxDisk)), option("--max-timeout", () -> Quantities.duration(maxTimeout)));
        Node.Config base = Node.Config.embedded(dir).withApi(host, port, deployRoots);
        Node node = new Node(base.with(limits, maxConcurrent != null ? maxConcurrent : base.maxConcurrent(), base.warmIdle())
                .withQuotas(new Orchestrator.Quotas(quotaTasks, quotaCpu))
                .withSecurity(base.security().withSecretsKey(Optional.ofNullable(secretsKeyFile), base.security().secretsKey()))
                .withCoordination(new Node.Coordination(Optional.ofNullable(nats), base.coordination().limits())));
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            node.close();
            stop.countDown();
        }));
        System.out.println("aegis: data folder " + dir);
        node.notices().forEach(n -> System.out.println("aegis: " + n));
        if (node.recovered() > 0)
            System.out.println("aegis: " + node.recovered() + " task(s) interrupted by the last shutdown marked failed");
        node.orchestrator().runtimes().values().forEach(r -> System.out.println("aegis: runtime " + r.name() + ": " + r.description()));
        System.out.println("aegis: bus: " + node.bus().description());
        node.firstAdminKey().ifPresent(k -> System.out.println(
                "aegis: admin API key (shown once, stored only hashed):\n  " + k));
        System.out.println("aegis: listening on " + node.url() + " (Ctrl-C to stop)");
        System.out.flush();
        stop.await();
        return 0;
    }
}
