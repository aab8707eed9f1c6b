package dev.aegis.cli;

import dev.aegis.api.RateLimits;
import dev.aegis.api.Transport;
import dev.aegis.core.HostFolders;
import dev.aegis.core.Coordinator;
import dev.aegis.core.Delegation;
import dev.aegis.core.OperatorLimits;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Quantities;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "server", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Runs an AEGIS node: the HTTP API, the agent API socket and the sandboxes.", "",
                "On first start it prints an admin API key once; keep it (only its hash is stored).", "",
                "Example:", "  aegis server --port 7070", "  export AEGIS_API_KEY=aeg_live_...; aegis agents deploy examples/summarizer", ""},
        footer = {"", "Rate limits:",
                "  Every request to /v1 takes one token from two buckets: its API key's and its tenant's, of the request's",
                "  route class: deploy (POST /v1/agents), run (other changes: POST /v1/tasks, cancel, terminate, keys) or",
                "  read (every GET). A bucket holds BURST tokens and refills PER_SECOND tokens a second; an empty bucket",
                "  answers 429 with Retry-After, and every response says RateLimit-Limit/-Remaining/-Reset.",
                "  Give a class as CLASS=BURST/PER_SECOND; classes not given keep their defaults:",
                "    per key:    deploy=60/5  run=300/100  read=1000/500",
                "    per tenant: 4x the per-key values of the same class",
                "  Example: aegis server --rate-limit run=50/10 --rate-limit read=200/50 --tenant-rate-limit run=500/100"})
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

    @Option(names = "--max-delegation-depth", defaultValue = "4",
            description = "levels of child tasks (tasks.delegate) below a submitted task; 0 turns delegation off (default ${DEFAULT-VALUE})")
    int maxDelegationDepth;

    @Option(names = "--max-children", defaultValue = "32", description = "child tasks one task may start (default ${DEFAULT-VALUE})")
    int maxChildren;

    @Option(names = "--nats", description = "run the message bus on this NATS server (e.g. nats://127.0.0.1:4222, with JetStream); "
            + "default: in this process")
    String nats;

    @Option(names = "--rate-limit", paramLabel = "CLASS=BURST/PER_SECOND",
            description = "per API key: a route class's bucket (repeatable; see Rate limits below)")
    List<String> keyRates = new ArrayList<>();

    @Option(names = "--tenant-rate-limit", paramLabel = "CLASS=BURST/PER_SECOND",
            description = "per tenant, shared by all its keys (repeatable; default 4x the per-key limit)")
    List<String> tenantRates = new ArrayList<>();

    @Option(names = "--tls-keystore", paramLabel = "FILE",
            description = "serve HTTPS with the key and certificate in this PKCS12 keystore (default: plain HTTP)")
    Path tlsKeystore;

    @Option(names = "--tls-password-env", paramLabel = "NAME", defaultValue = "AEGIS_TLS_PASSWORD",
            description = "environment variable holding the keystore's password (default ${DEFAULT-VALUE}); never a flag, so it stays out of ps")
    String tlsPasswordEnv;

    @Option(names = "--llm-timeout", paramLabel = "DURATION", defaultValue = "120s",
            description = "the LLM gateway gives a provider this long for a whole answer, retries included (a stream: until it "
                    + "starts; then 60 s between events) before llm_timeout (default ${DEFAULT-VALUE})")
    String llmTimeout;

    @Option(names = "--llm-audit-content", description = "put LLM prompts and answers (each cut at 8 KiB) into the audit log; "
            + "off by default: the records then hold model, tokens, latency and decision only")
    boolean llmAuditContent;

    /** The LLM gateway's settings from the flags. */
    Node.Llm llm() {
        return new Node.Llm(option("--llm-timeout", () -> Node.Llm.DEFAULT.gateway().withTimeout(Quantities.duration(llmTimeout))),
                llmAuditContent);
    }

    @Option(names = "--idle-timeout", paramLabel = "DURATION", defaultValue = "30s",
            description = "close a connection or request silent this long (default ${DEFAULT-VALUE})")
    String idleTimeout;

    /** HTTP or HTTPS and timeouts, from the flags; a keystore that cannot be opened stops the server here. */
    Transport transport() {
        Transport t = Transport.DEFAULT.withTimeouts(option("--idle-timeout", () -> Quantities.duration(idleTimeout)),
                Transport.DEFAULT.bodyTimeout());
        if (tlsKeystore == null) return t;
        String password = System.getenv(tlsPasswordEnv);
        if (password == null)
            throw new IllegalArgumentException("--tls-keystore: the password is read from $" + tlsPasswordEnv
                    + ", which is not set (or name another variable with --tls-password-env)");
        return t.withTls(option("--tls-keystore", () -> new Transport.Tls(tlsKeystore, password)));
    }

    /** The rate limits the flags ask for, over the defaults; a bad flag is an error naming it and what is allowed. */
    RateLimits.Config rateLimits() {
        Map<String, RateLimits.Limit> perKey = rates("--rate-limit", keyRates, RateLimits.DEFAULTS);
        Map<String, RateLimits.Limit> perTenant = rates("--tenant-rate-limit", tenantRates, RateLimits.tenantDefaults(perKey));
        return new RateLimits.Config(perKey, perTenant, new RateLimits.Local());
    }

    private static final Pattern RATE = Pattern.compile("([a-z]+)=([0-9]{1,18})/([0-9]{1,18})");

    private static Map<String, RateLimits.Limit> rates(String flag, List<String> given, Map<String, RateLimits.Limit> defaults) {
        Map<String, RateLimits.Limit> out = new HashMap<>(defaults);
        for (String spec : given) {
            Matcher m = RATE.matcher(spec.strip());
            if (!m.matches())
                throw new IllegalArgumentException(flag + ": \"" + spec + "\" is not CLASS=BURST/PER_SECOND (e.g. read=1000/500)");
            if (!RateLimits.CLASSES.contains(m.group(1)))
                throw new IllegalArgumentException(flag + ": \"" + spec + "\": unknown route class \"" + m.group(1) + "\"; use one of "
                        + String.join(", ", RateLimits.CLASSES));
            try {
                out.put(m.group(1), new RateLimits.Limit(Long.parseLong(m.group(2)), Long.parseLong(m.group(3))));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(flag + ": \"" + spec + "\": BURST must be at least 1 and PER_SECOND from 1 to "
                        + RateLimits.Limit.MAX_RATE);
            }
        }
        return out;
    }

    @Option(names = "--approve-folder", paramLabel = "HOST[=SANDBOX]", description = {"host folder manifests may grant, "
            + "read or write, seen in sandboxes at SANDBOX (default: the same path); {tenant} in HOST is the deploying tenant "
            + "(repeatable), e.g. /srv/aegis/{tenant}/out=/data/out"})
    List<String> approveFolders = new ArrayList<>();

    @Option(names = "--approve-folder-ro", paramLabel = "HOST[=SANDBOX]", description = "as --approve-folder, for reading only (repeatable)")
    List<String> approveFoldersRo = new ArrayList<>();

    @Option(names = "--egress-hosts", paramLabel = "FILE", description = {"resolve the names in egress allow-lists from this file "
            + "(/etc/hosts format: address name...) instead of DNS; names not in it do not resolve. For air-gapped sites and tests"})
    Path egressHosts;

    /** The egress proxy's settings from the flags, over {@code base}. */
    dev.aegis.security.EgressConfig egress(dev.aegis.security.EgressConfig base) {
        if (egressHosts == null) return base;
        return base.withResolver(option("--egress-hosts", () -> {
            try {
                return dev.aegis.security.Resolver.hostsFile(egressHosts);
            } catch (java.io.UncheckedIOException e) {
                throw new IllegalArgumentException("cannot read " + egressHosts + ": "
                        + (e.getCause() instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getCause().toString()));
            }
        }));
    }

    private static <T> T option(String name, java.util.function.Supplier<T> parse) {
        try {
            return parse.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(name + ": " + e.getMessage());
        }
    }

    private List<HostFolders.Approved> folders() {
        List<HostFolders.Approved> all = new ArrayList<>();
        for (String f : approveFolders) all.add(option("--approve-folder", () -> HostFolders.Approved.parse(f, true)));
        for (String f : approveFoldersRo) all.add(option("--approve-folder-ro", () -> HostFolders.Approved.parse(f, false)));
        return all;
    }

    /** The bus's place and the delegation limits from the flags, over {@code base}. */
    Node.Coordination coordination(Node.Coordination base) {
        if (maxDelegationDepth < 0) throw new IllegalArgumentException("--max-delegation-depth: " + maxDelegationDepth
                + " is negative; use 0 (no delegation) or more");
        if (maxChildren < 0) throw new IllegalArgumentException("--max-children: " + maxChildren + " is negative; use 0 or more");
        Coordinator.Limits l = base.limits();
        return new Node.Coordination(Optional.ofNullable(nats), new Coordinator.Limits(l.locks(), l.bus(),
                new Delegation.Limits(maxDelegationDepth, maxChildren, l.tasks().maxWait())));
    }

    @Override
    public Integer call() throws InterruptedException {
        RateLimits.Config rates = rateLimits();
        Transport transport = transport();
        Node.Coordination coordination = coordination(Node.Coordination.DEFAULT);
        Node.Llm llm = llm();
        // The server's console shows one JSON access-log line per request; other commands keep it quiet.
        System.setProperty("org.slf4j.simpleLogger.log.dev.aegis.api.access", "info");
        Path dir = DataDir.resolve(data);
        OperatorLimits limits = new OperatorLimits(maxCpu, option("--max-memory", () -> Quantities.bytes(maxMemory)), maxPids,
                option("--max-disk", () -> Quantities.bytes(maxDisk)), option("--max-timeout", () -> Quantities.duration(maxTimeout)));
        Node.Config base = Node.Config.embedded(dir).withApi(host, port, deployRoots).withRateLimits(rates).withTransport(transport);
        Node node = new Node(base.with(limits, maxConcurrent != null ? maxConcurrent : base.maxConcurrent(), base.warmIdle())
                .withQuotas(new Orchestrator.Quotas(quotaTasks, quotaCpu))
                .withSecurity(base.security().withSecretsKey(Optional.ofNullable(secretsKeyFile), base.security().secretsKey())
                        .withFolders(folders()).withEgress(egress(base.security().egress())))
                .withCoordination(coordination).withLlm(llm));
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
        System.out.println("aegis: memory: " + node.memory().embedder().id() + " in " + dir.resolve("memory") + " (model loading in the background)");
        node.memory().preload(); // the first task's memories and the first search need it; the API does not wait for it
        node.firstAdminKey().ifPresent(k -> System.out.println(
                "aegis: admin API key (shown once, stored only hashed):\n  " + k));
        System.out.println("aegis: listening on " + node.url() + " (Ctrl-C to stop)");
        System.out.flush();
        stop.await();
        return 0;
    }
}
