package dev.aegis.cli;

import dev.aegis.api.AgentApiServer;
import dev.aegis.audit.FileAuditLog;
import dev.aegis.core.AuditVerification;
import dev.aegis.api.ApiConfig;
import dev.aegis.api.ApiServer;
import dev.aegis.api.RateLimits;
import dev.aegis.core.Bus;
import dev.aegis.api.Transport;
import dev.aegis.core.AgentLocks;
import dev.aegis.core.AgentRuntime;
import dev.aegis.core.Coordinator;
import dev.aegis.core.ApiKeys;
import dev.aegis.core.HostFolders;
import dev.aegis.core.HttpFetchTool;
import dev.aegis.security.EgressConfig;
import dev.aegis.security.EgressProxy;
import dev.aegis.core.LlmCalls;
import dev.aegis.llm.LlmGateway;
import dev.aegis.core.ToolCalls;
import dev.aegis.core.ToolRegistry;
import dev.aegis.mcp.McpTools;
import dev.aegis.core.OperatorLimits;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Policy;
import dev.aegis.core.AegisException;
import dev.aegis.core.SandboxSpec;
import dev.aegis.core.Sessions;
import dev.aegis.core.Task;
import dev.aegis.core.TaskEvents;
import dev.aegis.memory.Cortex;
import dev.aegis.memory.EmbeddingService;
import dev.aegis.runtime.bubblewrap.BubblewrapRuntime;
import dev.aegis.runtime.docker.DockerRuntime;
import dev.aegis.store.Database;
import dev.aegis.swarm.LocalBus;
import dev.aegis.swarm.LocalLocks;
import dev.aegis.swarm.NatsBus;
import dev.aegis.store.FileAgentFiles;
import dev.aegis.store.LocalHostFolders;
import dev.aegis.store.SqlSecretStore;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One AEGIS node wired from real adapters: SQLite metadata in the data folder, bubblewrap sandboxes, the
 * agent-API socket, and optionally the public HTTP API. The only place that knows every module.
 */
public final class Node implements AutoCloseable {
    /**
     * Lucene announces on first use, through java.util.logging, that it uses the Vector API: one line of noise in the
     * middle of every command's output. Held here: java.util.logging keeps loggers only weakly.
     */
    private static final java.util.logging.Logger LUCENE_VECTORS = java.util.logging.Logger.getLogger("org.apache.lucene.internal.vectorization");

    static {
        LUCENE_VECTORS.setLevel(java.util.logging.Level.WARNING);
    }

    /**
     * @param port     public API port; 0 picks a free one; empty runs without the public API ({@code aegis run})
     * @param warmIdle how long a warm pool outlives its agent's last task
     */
    public record Config(Path dataDir, String host, Optional<Integer> port, OperatorLimits limits, int maxConcurrent,
                         List<Path> deployRoots, Duration warmIdle, RateLimits.Config rateLimits,
                         Orchestrator.Quotas quotas, Security security, Coordination coordination, Transport transport, Llm llm) {
        public static Config embedded(Path dataDir) {
            return new Config(dataDir, "127.0.0.1", Optional.empty(), OperatorLimits.DEFAULT,
                    Math.max(2, Runtime.getRuntime().availableProcessors() * 4), List.of(), Duration.ofMinutes(5),
                    RateLimits.Config.of(RateLimits.DEFAULTS), Orchestrator.Quotas.NONE, Security.fromEnvironment(), Coordination.DEFAULT,
                    Transport.DEFAULT, Llm.DEFAULT);
        }

        public Config withLlm(Llm l) {
            return new Config(dataDir, host, port, limits, maxConcurrent, deployRoots, warmIdle, rateLimits, quotas, security, coordination, transport, l);
        }

        public Config withApi(String host, int port, List<Path> deployRoots) {
            return new Config(dataDir, host, Optional.of(port), limits, maxConcurrent, deployRoots, warmIdle, rateLimits, quotas, security, coordination, transport, llm);
        }

        public Config with(OperatorLimits limits, int maxConcurrent, Duration warmIdle) {
            return new Config(dataDir, host, port, limits, maxConcurrent, deployRoots, warmIdle, rateLimits, quotas, security, coordination, transport, llm);
        }

        public Config withRateLimits(Map<String, RateLimits.Limit> perKey) {
            return withRateLimits(RateLimits.Config.of(perKey));
        }

        public Config withRateLimits(RateLimits.Config rates) {
            return new Config(dataDir, host, port, limits, maxConcurrent, deployRoots, warmIdle, rates, quotas, security, coordination, transport, llm);
        }

        public Config withQuotas(Orchestrator.Quotas q) {
            return new Config(dataDir, host, port, limits, maxConcurrent, deployRoots, warmIdle, rateLimits, q, security, coordination, transport, llm);
        }

        public Config withCoordination(Coordination c) {
            return new Config(dataDir, host, port, limits, maxConcurrent, deployRoots, warmIdle, rateLimits, quotas, security, c, transport, llm);
        }

        public Config withTransport(Transport t) {
            return new Config(dataDir, host, port, limits, maxConcurrent, deployRoots, warmIdle, rateLimits, quotas, security, coordination, t, llm);
        }

        public Config withSecurity(Security s) {
            return new Config(dataDir, host, port, limits, maxConcurrent, deployRoots, warmIdle, rateLimits, quotas, s, coordination, transport, llm);
        }
    }

    /**
     * Secrets key and host folders: what only the operator decides.
     *
     * @param secretsKeyFile {@code --secrets-key-file}: a file holding the base64 key; wins over {@code secretsKey}
     * @param secretsKey     base64 of the 32-byte key ({@code $AEGIS_SECRETS_KEY}); with neither, the data folder's
     *                       {@code secrets.key}, made on first start
     * @param folders        host folders manifests may grant ({@code --approve-folder}); none by default
     * @param egress         the egress proxy's settings (its resolver above all: the system's by default, a fixed
     *                       table in tests)
     */
    public record Security(Optional<Path> secretsKeyFile, Optional<String> secretsKey, List<HostFolders.Approved> folders,
                           EgressConfig egress) {
        public Security {
            folders = List.copyOf(folders);
        }

        public static Security fromEnvironment() {
            return new Security(Optional.empty(), Optional.ofNullable(System.getenv(SecretsKey.ENV)).filter(k -> !k.isBlank()),
                    List.of(), EgressConfig.defaults());
        }

        public Security withSecretsKey(Optional<Path> file, Optional<String> base64) {
            return new Security(file, base64, folders, egress);
        }

        public Security withFolders(List<HostFolders.Approved> approved) {
            return new Security(secretsKeyFile, secretsKey, approved, egress);
        }

        public Security withEgress(EgressConfig e) {
            return new Security(secretsKeyFile, secretsKey, folders, e);
        }
    }

    /**
     * The LLM gateway's settings: how it talks to providers, and whether prompts and answers go into the audit log
     * ({@code aegis server --llm-audit-content}; off by default: the records then hold models, tokens and latency only).
     */
    public record Llm(LlmGateway.Config gateway, boolean auditContent) {
        public static final Llm DEFAULT = new Llm(LlmGateway.Config.DEFAULT, false);
    }

    /** Where the bus runs (in this process by default, or on a NATS server) and the operator's coordination bounds. */
    public record Coordination(Optional<String> natsUrl, Coordinator.Limits limits) {
        public static final Coordination DEFAULT = new Coordination(Optional.empty(), Coordinator.Limits.DEFAULT);
    }

    private final Config config;
    private final DataLock lock;
    private final Database db;
    private final FileAuditLog audit;
    private final EgressProxy egress;
    private final DockerRuntime docker;
    private final AgentApiServer agentApi;
    private final LocalLocks locks;
    private final Bus bus;
    private final Coordinator coordinator;
    private final Cortex memory;
    private final Orchestrator orchestrator;
    private final ApiKeys keys;
    private final McpTools mcp;
    private final Optional<ApiServer> api;
    private final Optional<String> firstAdminKey;
    private final int recovered;
    private final List<String> notices = new java.util.ArrayList<>();

    /** A unix socket's path holds at most this many bytes (108 with the terminating NUL). */
    static final int MAX_SOCKET_PATH = 107;

    /** The longest socket path AEGIS makes in the data folder, an instance's egress socket, must fit. */
    static void checkSocketRoom(Path data) {
        int dataBytes = data.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        int longest = data.resolve("run/egress/i-00000000-00000.sock").toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
        if (longest > MAX_SOCKET_PATH)
            throw new IllegalArgumentException("data folder " + data + " is " + dataBytes + " bytes long, too long for the unix sockets "
                    + "made in it (" + data.resolve("run/egress") + "/<instance>.sock would be " + longest + " bytes; a socket path holds at most "
                    + MAX_SOCKET_PATH + "): use a data folder of at most " + (MAX_SOCKET_PATH - (longest - dataBytes))
                    + " bytes, e.g. --data /var/lib/aegis");
    }

    public Node(Config config) {
        this.config = config;
        Path data = config.dataDir().toAbsolutePath();
        checkSocketRoom(data);
        // First: a NATS server that does not answer fails the start before anything else is opened.
        this.bus = config.coordination().natsUrl().<Bus>map(url -> NatsBus.connect(NatsBus.Config.defaults(url))).orElseGet(LocalBus::new);
        this.lock = DataLock.acquire(data);
        Path agentLib = Bundled.extractAgentLib(data.resolve("lib/python"));
        this.audit = FileAuditLog.open(data.resolve("audit"));
        if (audit.verifyTail() instanceof AuditVerification.Broken(long seq, String problem)) {
            audit.close();
            lock.close();
            throw new IllegalStateException("the audit log in " + data.resolve("audit") + " is damaged at record " + seq
                    + ": " + problem + ". Keep it as evidence; run `aegis audit verify` for the full report. AEGIS will not "
                    + "append to a broken chain: move the folder aside to start a new log.");
        }
        this.db = Database.inDataDir(data);
        SqlSecretStore secretStore;
        try {
            secretStore = openSecrets(config.security(), data);
        } catch (RuntimeException e) {
            db.close();
            audit.close();
            lock.close();
            throw e;
        }
        Sessions sessions = new Sessions();
        Path agentSocket = data.resolve("run/agent.sock");
        // Native libraries of the embedding model unpack into the data folder, not a shared cache in $HOME.
        if (System.getProperty("DJL_CACHE_DIR") == null) System.setProperty("DJL_CACHE_DIR", data.resolve("cache/djl").toString());
        try {
            var embedder = Embeddings.fromEnvironment(System.getenv(), line -> System.err.println("aegis: " + line));
            this.memory = new Cortex(Cortex.Config.defaults(data.resolve("memory"), embedder), EmbeddingService.defaults(embedder), audit,
                    Clock.systemUTC(), new EndedTasks(), line -> System.err.println("aegis: " + line));
        } catch (RuntimeException e) { // a bad AEGIS_EMBEDDING_* setting: nothing may stay open
            db.close();
            audit.close();
            lock.close();
            throw e;
        }
        // One proxy per node, the only way out of every sandbox on it; it audits into the node's log.
        this.egress = new EgressProxy(audit, config.security().egress());
        this.docker = new DockerRuntime(data.resolve("run/docker"));
        BubblewrapRuntime bubblewrap = new BubblewrapRuntime(data.resolve("run/bubblewrap"));
        List<AgentRuntime> runtimes = List.of(bubblewrap, docker);
        ProxyGate gate = new ProxyGate(egress, data.resolve("run/egress"));
        FileAgentFiles files = new FileAgentFiles(data);
        files.sweep();
        this.orchestrator = new Orchestrator(new Orchestrator.Config(agentSocket, agentLib, config.limits(),
                SandboxSpec.OutputLimits.DEFAULT, config.maxConcurrent(), 10_000, 1_000, config.maxConcurrent(), config.warmIdle(), config.quotas()),
                runtimes, db.agents(), db.tasks(), files, sessions, audit, Clock.systemUTC(), secretStore,
                new LocalHostFolders(config.security().folders()), gate);
        this.recovered = orchestrator.recover();
        this.locks = new LocalLocks(audit);
        this.coordinator = new Coordinator(orchestrator, locks, bus, config.coordination().limits());
        Path toolServerDir = data.resolve("run/mcp");
        try {
            java.nio.file.Files.createDirectories(toolServerDir);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot create " + toolServerDir, e);
        }
        // MCP stdio servers run in bubblewrap sandboxes of their own; /agent is an empty folder, their code comes
        // through their filesystem grants (an approved host folder). Their egress, and remote servers', is the proxy's.
        this.mcp = new McpTools(db.toolServers(), bubblewrap, (s, id, socket) -> orchestrator.toolServerSpec(s, id, toolServerDir, socket),
                gate, audit, Clock.systemUTC(), McpTools.Limits.DEFAULT);
        ToolCalls tools = new ToolCalls(List.of(new HttpFetchTool(ProxyFetcher.of(egress)), mcp), audit, memory);
        // The tenant's key reaches the gateway from the secrets store at each call, and goes nowhere else.
        LlmCalls llm = new LlmCalls(new LlmGateway(config.llm().gateway()), db.llm(), secretStore, audit, Clock.systemUTC(),
                new LlmCalls.Options(config.llm().auditContent(), config.limits().maxTimeout().plusMinutes(1)));
        this.agentApi = new AgentApiServer(sessions, agentSocket, Optional.of(coordinator), Optional.of(tools), memory, audit,
                Optional.of(llm)).start();
        orchestrator.events().observe(new TaskEvents.Observer() {
            @Override
            public void ended(Task task) {
                memory.taskEnded(task);
            }

            @Override
            public void booted(String runtime, Duration took) {}
        });
        this.keys = new ApiKeys(db.keys(), Clock.systemUTC());
        this.firstAdminKey = db.keys().isEmpty() ? Optional.of(keys.create("default", "admin").plaintext()) : Optional.empty();
        this.api = config.port().map(port -> new ApiServer(orchestrator, coordinator, keys, files, audit,
                new ApiConfig(config.host(), port, ApiConfig.DEFAULT_MAX_BODY, config.deployRoots(), Duration.ofMinutes(5),
                        config.rateLimits(), Optional.ofNullable(System.getenv("AEGIS_METRICS_TOKEN")).filter(t -> !t.isBlank()), config.transport()),
                memory, Optional.of(llm), Optional.of(mcp)).start());
    }

    /** Opens the secrets with the configured key, and refuses to go on if the key cannot open what is stored. */
    private SqlSecretStore openSecrets(Security security, Path data) {
        SecretsKey.Loaded key = SecretsKey.load(security.secretsKeyFile(), security.secretsKey(), data, db.hasSecrets());
        key.notice().ifPresent(notices::add);
        SqlSecretStore store = db.secrets(key.cipher());
        SqlSecretStore.Check check = store.check();
        if (!check.failures().isEmpty())
            throw new IllegalStateException("the secrets key from " + key.source() + " (key id " + key.cipher().keyId()
                    + ") cannot decrypt " + check.failures().size() + " of the " + check.total() + " stored secrets, e.g.: "
                    + check.failures().getFirst() + ". Start with the key they were sealed with (--secrets-key-file, $"
                    + SecretsKey.ENV + ", or " + data.resolve(SecretsKey.FILE) + "); AEGIS will not start with a key that "
                    + "cannot read them.");
        return store;
    }

    /** Things the operator should know from this start (a secrets key was made, ...), one sentence each. */
    public List<String> notices() {
        return List.copyOf(notices);
    }

    public Orchestrator orchestrator() {
        return orchestrator;
    }

    /** Cortex, the agents' memory on this node. */
    public Cortex memory() {
        return memory;
    }

    /** What the memory's indexing pipeline reads about an ended task, on its own thread, off the task's path. */
    private final class EndedTasks implements Cortex.TaskSource {
        @Override
        public List<String> lines(Task task) {
            return orchestrator.logs(task.tenant(), task.id(), 0).stream().map(dev.aegis.core.LogLine::line).toList();
        }

        /** Its agent's namespace, or the one the agent's manifest shares. */
        @Override
        public String namespace(Task task) {
            try {
                return Policy.memoryNamespace(orchestrator.agent(task.tenant(), task.agent()).manifest());
            } catch (AegisException e) {
                return task.agent(); // the agent is gone (only its task is left): its own namespace
            }
        }
    }

    public ApiKeys keys() {
        return keys;
    }

    /** The admin key minted on this node's first start; empty on later starts (it is stored only hashed). */
    public Optional<String> firstAdminKey() {
        return firstAdminKey;
    }

    /** Tasks failed by crash recovery at start. */
    public int recovered() {
        return recovered;
    }

    /** The tenants' MCP tool servers. */
    public ToolRegistry tools() {
        return mcp;
    }

    public Bus bus() {
        return bus;
    }

    public FileAuditLog audit() {
        return audit;
    }

    public Path dataDir() {
        return config.dataDir();
    }

    /** The public API's live routes ({@code METHOD /path}). */
    public List<String> routes() {
        return api.orElseThrow().routes();
    }

    public String url() {
        return api.orElseThrow().url();
    }

    @Override
    public void close() {
        api.ifPresent(ApiServer::close);
        orchestrator.shutdown(Duration.ofSeconds(10));
        agentApi.close();
        mcp.close();
        egress.close(); // after the sandboxes: every grant is closed by now; waits for the last connections' records
        locks.close();
        coordinator.close();
        bus.close();
        memory.close();
        try {
            docker.close();
        } catch (java.io.IOException e) {
            // the client's connection pool only; nothing of the sandboxes depends on it
        }
        db.close();
        audit.close();
        lock.close();
    }
}
