package dev.aegis.core;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;

/**
 * The control plane of one node: deploys agents and runs each task through the execution flow
 * (policy check, fresh sandbox, execution, store, cleanup), recording every lifecycle transition.
 * Talks to the world only through ports; the {@code cli} module wires real adapters in.
 */
public final class Orchestrator {
    /**
     * @param agentSocket        host path of the agent-API unix socket mounted into every sandbox
     * @param agentLib           host folder holding the {@code aegis_agent} Python module
     * @param maxConcurrent      tasks running at once on this node
     * @param maxQueued          tasks waiting for a slot before new ones are refused ({@code overloaded})
     * @param maxQueuedPerTenant one tenant's share of that queue ({@code rate_limited} beyond)
     * @param maxWarm            warm instances kept on this node across all agents
     * @param warmIdle           a pool whose agent saw no task this long shrinks to zero
     * @param quotas             per-tenant ceilings on concurrent tasks and CPU time a day
     */
    public record Config(Path agentSocket, Path agentLib, OperatorLimits limits, SandboxSpec.OutputLimits output,
                         int maxConcurrent, int maxQueued, int maxQueuedPerTenant, int maxWarm, Duration warmIdle,
                         Quotas quotas) {}

    /** Per tenant: tasks queued or running at once, and CPU-seconds a UTC day; 0 means no quota. */
    public record Quotas(int concurrentTasks, double cpuSecondsPerDay) {
        public static final Quotas NONE = new Quotas(0, 0);
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    final Config config;
    final Map<String, AgentRuntime> runtimes;
    private final AgentStore agents;
    final TaskStore tasks;
    private final AgentFiles files;
    final Sessions sessions;
    final Clock clock;
    final TaskEvents events = new TaskEvents();
    final AuditLog audit;
    final Secrets secrets;
    final HostFolders folders;
    final EgressGate egress;
    /**
     * The egress entries of each deployed agent ({@code tenant/name}), as last deployed: every open grant reads its
     * agent's entry at each new connection, so a redeploy that changes the list applies to running instances at once.
     */
    private final Map<String, List<EgressRule>> egressRules = new ConcurrentHashMap<>();

    /**
     * Who is acting, for the audit log: bound by the API around a call ({@code key:<id>}); {@code local} when a
     * command of this host calls the orchestrator directly.
     */
    public static final ScopedValue<String> ACTOR = ScopedValue.newInstance();
    final Scheduler scheduler;
    final WarmPools pools;
    final Map<String, TaskRun> running = new ConcurrentHashMap<>();
    volatile boolean closing;

    public Orchestrator(Config config, List<AgentRuntime> runtimes, AgentStore agents, TaskStore tasks,
                        AgentFiles files, Sessions sessions, AuditLog audit, Clock clock, SecretStore secretStore,
                        HostFolders folders, EgressGate egress) {
        this.audit = audit;
        this.folders = folders;
        this.egress = egress;
        this.config = config;
        Map<String, AgentRuntime> byName = new HashMap<>();
        for (AgentRuntime r : runtimes) byName.put(r.name(), r);
        this.runtimes = Map.copyOf(byName);
        this.agents = agents;
        this.tasks = tasks;
        this.files = files;
        this.sessions = sessions;
        this.clock = clock;
        this.scheduler = new Scheduler(config.maxConcurrent(), config.maxQueued(), config.maxQueuedPerTenant());
        this.pools = new WarmPools(this::spawnWarm, this::killWarm, config.maxWarm(), config.warmIdle(), clock);
        // A changed or deleted secret must not live on in sandboxes booted with the old value.
        this.secrets = new Secrets(secretStore, audit, clock, (tenant, name) -> pools.retire(a -> a.tenant().equals(tenant)
                && a.manifest().secrets().contains(name)));
    }

    /** The tenants' secrets: set, list, delete. */
    public Secrets secrets() {
        return secrets;
    }

    /**
     * Cleans up after a crash: every runtime reclaims its leftovers, and every task that was queued or running
     * is marked {@code FAILED} with reason {@code orchestrator restarted}. Call once before serving.
     *
     * @return how many tasks were failed
     */
    public int recover() {
        for (AgentRuntime r : runtimes.values()) if (r.isApplicable()) r.reclaim();
        int failed = 0;
        for (Task t : tasks.unfinished()) {
            Instant now = clock.instant();
            List<Transition> steps = tasks.transitions(t.id());
            if (!steps.isEmpty() && !steps.getLast().to().isFinal()) {
                Transition last = steps.getLast();
                Transition end = new Transition(t.id(), last.instanceId(), Optional.of(last.to()),
                        InstanceState.FAILED, now, "orchestrator restarted");
                audit.append(TaskRun.auditOf(t.tenant(), t.agent(), end));
                tasks.addTransition(end);
            }
            Task end = t.failed(TaskState.FAILED, new Task.TaskError("orchestrator_restarted",
                    "orchestrator restarted while the task was " + t.state().name().toLowerCase()), Optional.empty(), now);
            audit.append(AuditEvent.of(t.tenant(), "system", "task.result", "task:" + t.id(), Map.of("state", "failed",
                    "result_sha256", "", "error", "orchestrator_restarted")).withAgent(t.agent()).withTask(t.id()));
            tasks.update(end);
            failed++;
        }
        return failed;
    }

    /**
     * Stops this node's work: refuses new tasks, ends running ones as {@code FAILED} ({@code orchestrator_shutdown}),
     * waits up to {@code grace} for them to be recorded, then lets every runtime reclaim what is left.
     */
    public void shutdown(Duration grace) {
        closing = true;
        List<TaskRun> live = List.copyOf(running.values());
        live.forEach(TaskRun::cancel);
        pools.shutdown();
        long deadline = System.nanoTime() + grace.toNanos();
        for (TaskRun r : live) {
            try {
                r.done.get(Math.max(1, deadline - System.nanoTime()), java.util.concurrent.TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                // recovery at the next start fails whatever was not recorded
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        for (AgentRuntime r : runtimes.values()) if (r.isApplicable()) r.reclaim();
    }

    /** One live instance as an operator sees it: what it is, what it is doing, what it used so far. */
    public record InstanceView(String id, String agent, String runtime, InstanceState state, Optional<String> taskId,
                               Optional<Usage> usage) {}

    /** Every live instance of {@code tenant} on this node: warm ones in pools and those running tasks. */
    public List<InstanceView> instances(String tenant) {
        List<InstanceView> all = new java.util.ArrayList<>();
        for (WarmPools.Warm w : pools.warm(tenant)) all.add(view(w.agent(), w.id(), Optional.empty()));
        for (TaskRun run : running.values())
            if (run.tenant().equals(tenant))
                run.instance().ifPresent(id -> all.add(view(run.agent(), id, Optional.of(run.taskId()))));
        return all;
    }

    private InstanceView view(Agent agent, InstanceId id, Optional<String> taskId) {
        AgentRuntime r = runtimes.get(agent.manifest().runtime());
        Optional<Usage> usage = r instanceof Metered m ? m.usage(id) : Optional.empty();
        long egressBytes = egress.bytes(id);
        if (usage.isPresent() || egressBytes > 0) usage = Optional.of(usage.orElse(Usage.NONE).withEgressBytes(egressBytes));
        return new InstanceView(id.value(), agent.name(), r.name(), r.status(id), taskId, usage);
    }

    /**
     * Force-terminates an instance in any state: a warm one is killed and its pool refills; one running a task
     * ends that task as cancelled. Its resources are released before this returns.
     */
    public InstanceView terminate(String tenant, String instanceId) {
        InstanceId id;
        try {
            id = new InstanceId(instanceId);
        } catch (IllegalArgumentException e) {
            throw AegisException.notFound("instance \"" + instanceId + "\" does not exist");
        }
        Optional<WarmPools.Warm> warm = pools.remove(tenant, id);
        if (warm.isPresent()) {
            InstanceView before = view(warm.get().agent(), id, Optional.empty());
            audit.append(AuditEvent.of(tenant, actor(), "instance.terminate", "instance:" + id, Map.of("state", "warm"))
                    .withAgent(warm.get().agent().name()));
            killWarm(warm.get());
            return new InstanceView(before.id(), before.agent(), before.runtime(), InstanceState.TERMINATED, Optional.empty(),
                    before.usage());
        }
        for (TaskRun run : running.values())
            if (run.tenant().equals(tenant) && run.instance().filter(id::equals).isPresent()) {
                InstanceView before = view(run.agent(), id, Optional.of(run.taskId()));
                cancel(tenant, run.taskId());
                return new InstanceView(before.id(), before.agent(), before.runtime(), InstanceState.TERMINATED,
                        before.taskId(), before.usage());
            }
        throw AegisException.notFound("instance \"" + instanceId + "\" is not live on this node");
    }

    /** Tasks waiting in the scheduler's queue. */
    public int queuedCount() {
        return scheduler.queued();
    }

    /** Tasks holding a run slot. */
    public int runningCount() {
        return scheduler.running();
    }

    /** Warm instances waiting on this node, across all agents. */
    public int warmCount() {
        return pools.warmCount();
    }

    public Map<String, AgentRuntime> runtimes() {
        return runtimes;
    }

    public TaskEvents events() {
        return events;
    }

    /**
     * Deploys (or replaces) an agent from a folder holding {@code agent.yaml} and its code.
     *
     * @param source how to name the manifest in errors, e.g. {@code upload.tar.gz:agent.yaml}
     */
    public Agent deploy(String tenant, Path folder, String source) {
        String yaml = files.readManifest(folder);
        Manifest manifest = ManifestParser.parse(yaml, source);
        AgentRuntime runtime = runtimes.get(manifest.runtime());
        if (runtime == null)
            throw new AegisException("runtime_unavailable", "runtime: \"" + manifest.runtime()
                    + "\" is not available on this node; available: " + runtimes.keySet(), "runtime");
        if (!runtime.isApplicable())
            throw new AegisException("runtime_unavailable", "runtime: \"" + manifest.runtime() + "\" cannot run here: "
                    + runtime.description(), "runtime");
        Decision resources = new Policy(manifest, config.limits()).resources();
        audit.append(AuditEvent.decided(tenant, actor(), "policy.resources", "agent:" + manifest.name(), resources)
                .withAgent(manifest.name()));
        if (resources instanceof Decision.Deny(String reason)) throw new AegisException("policy_denied", reason, "resources");
        // Refused now rather than at the first task: the deployer learns at once, and nothing half-works. A secret
        // deleted after deploy is still caught when a task starts (secret_missing).
        List<String> missing = secrets.missing(tenant, manifest.secrets());
        if (!missing.isEmpty()) throw Secrets.missingError(tenant, missing);
        checkFolders(tenant, manifest);
        AgentFiles.Installed installed = files.install(tenant, manifest.name(), folder);
        Agent agent = new Agent(tenant, manifest, yaml, installed.dir(), installed.digest(), clock.instant());
        agents.save(agent);
        egressRules.put(tenant + "/" + agent.name(), egressRules(manifest));
        audit.append(AuditEvent.of(tenant, actor(), "agent.deploy", "agent:" + agent.name(), Map.of("version",
                manifest.version(), "digest", agent.digest(), "runtime", manifest.runtime())).withAgent(agent.name()));
        pools.deployed(agent);
        return agent;
    }

    /** Every host folder grant must resolve inside an approved folder now; the decision is audited when there are any. */
    private void checkFolders(String tenant, Manifest manifest) {
        if (FolderGrants.hostGrants(manifest).isEmpty()) return;
        Decision d;
        List<SandboxSpec.Mount> mounts = List.of();
        try {
            mounts = FolderGrants.mounts(folders, tenant, manifest);
            d = Decision.ALLOW;
        } catch (AegisException e) {
            if (!e.code().equals("policy_denied")) throw e;
            d = Decision.deny(e.getMessage());
        }
        audit.append(AuditEvent.decided(tenant, actor(), "policy.filesystem", "agent:" + manifest.name(), d)
                .withAgent(manifest.name()).withDetails(Map.of("grants", String.join(", ", mounts.stream()
                        .map(m -> m.sandboxPath() + (m.writable() ? " rw" : " ro")).toList()))));
        if (d instanceof Decision.Deny(String reason)) throw new AegisException("policy_denied", reason, "permissions.filesystem");
    }

    public Agent agent(String tenant, String name) {
        return agents.find(tenant, name).orElseThrow(() -> AegisException.notFound("agent \"" + name + "\" is not deployed"));
    }

    public List<Agent> agents(String tenant) {
        return agents.list(tenant);
    }

    /**
     * Accepts a task and starts it in the background. The task is stored before this returns, so an accepted
     * task is never lost: at worst it ends {@code FAILED} after a crash.
     */
    public Task submit(String tenant, String agentName, String inputJson) {
        return submit(tenant, agentName, inputJson, DEFAULT_PRIORITY, null);
    }

    public static final int DEFAULT_PRIORITY = 5;

    /**
     * As {@link #submit(String, String, String)}, with a priority (0-9, higher first within the tenant) and a
     * {@code listener} subscribed before the task starts.
     */
    public Task submit(String tenant, String agentName, String inputJson, int priority, TaskEvents.Listener listener) {
        return submit(tenant, agentName, inputJson, priority, listener, Optional.empty());
    }

    /** As above, for a child task of {@code parent} (see {@link Delegation}), which the store keeps with it. */
    Task submit(String tenant, String agentName, String inputJson, int priority, TaskEvents.Listener listener,
                Optional<String> parent) {
        Agent agent = agent(tenant, agentName);
        requireJson(inputJson);
        if (priority < 0 || priority > 9) throw AegisException.invalid("priority", priority + " is not from 0 to 9");
        if (closing) throw new AegisException("overloaded", "this node is shutting down; retry on another node");
        checkQuotas(tenant);
        Task task = Task.queued(UUID.randomUUID().toString(), tenant, agent.name(), inputJson, clock.instant()).withParent(parent);
        TaskRun run = new TaskRun(this, task, agent, priority);
        run.accept();
        running.put(task.id(), run);
        if (listener != null) events.subscribe(task.id(), listener);
        try {
            scheduler.enqueue(run);
        } catch (AegisException refused) {
            // Stored already, so never lost: it ends as failed with the reason the client also gets.
            run.refused(refused);
            throw refused;
        }
        return task;
    }

    /** Waits up to {@code timeout} for the task to end and returns it as it is then. */
    public Task await(String tenant, String taskId, Duration timeout) {
        TaskRun run = running.get(taskId);
        if (run != null) {
            try {
                return run.done.get(timeout.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (TimeoutException e) {
                // fall through: report the current state
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException e) {
                throw new IllegalStateException(e.getCause());
            }
        }
        return task(tenant, taskId);
    }

    public Task task(String tenant, String taskId) {
        return tasks.find(taskId).filter(t -> t.tenant().equals(tenant))
                .orElseThrow(() -> AegisException.notFound("task \"" + taskId + "\" does not exist"));
    }

    public List<Task> tasks(String tenant, int limit) {
        return tasks.list(tenant, limit);
    }

    /** The tasks {@code taskId} delegated, oldest first. */
    public List<Task> children(String tenant, String taskId) {
        task(tenant, taskId);
        return tasks.children(taskId);
    }

    /** A task of {@code tenant} with its lifecycle, read together. */
    public TaskStore.Detailed detailed(String tenant, String taskId) {
        return tasks.detailed(taskId).filter(d -> d.task().tenant().equals(tenant))
                .orElseThrow(() -> AegisException.notFound("task \"" + taskId + "\" does not exist"));
    }

    public List<Transition> transitions(String tenant, String taskId) {
        task(tenant, taskId);
        return tasks.transitions(taskId);
    }

    public List<LogLine> logs(String tenant, String taskId, long afterSeq) {
        task(tenant, taskId);
        TaskRun run = running.get(taskId);
        if (run != null) run.flushLogs();
        return tasks.logs(taskId, afterSeq);
    }

    /** Cancels a queued or running task. Returns the task; a task already ended is returned unchanged. */
    public Task cancel(String tenant, String taskId) {
        Task task = task(tenant, taskId);
        TaskRun run = running.get(taskId);
        if (run == null) return task;
        audit.append(AuditEvent.of(tenant, actor(), "task.cancel", "task:" + taskId, Map.of())
                .withAgent(task.agent()).withTask(taskId));
        run.cancel();
        return await(tenant, taskId, Duration.ofSeconds(10));
    }

    /** Refuses a task over the tenant's quotas ({@code quota_exceeded}, 429), saying which and until when. */
    private void checkQuotas(String tenant) {
        Quotas q = config.quotas();
        if (q.concurrentTasks() > 0) {
            long mine = running.values().stream().filter(r -> r.tenant().equals(tenant)).count();
            if (mine >= q.concurrentTasks())
                throw new AegisException("quota_exceeded", "tenant " + tenant + " has " + mine + " tasks queued or running; "
                        + "its quota is " + q.concurrentTasks() + " at once: retry when one ends");
        }
        if (q.cpuSecondsPerDay() > 0) {
            Instant now = clock.instant();
            Instant day = now.truncatedTo(java.time.temporal.ChronoUnit.DAYS);
            double used = tasks.usage(tenant, day, now.plusNanos(1)).stream().mapToDouble(TaskStore.Metered::cpuSeconds).sum();
            if (used >= q.cpuSecondsPerDay())
                throw new AegisException("quota_exceeded", String.format("tenant %s used %.1f CPU-seconds today; its quota is "
                        + "%.1f a day: retry after %s", tenant, used, q.cpuSecondsPerDay(), day.plus(Duration.ofDays(1))));
        }
    }

    /** What the tenant's tasks that finished in {@code [from, to)} used, per agent. */
    public List<TaskStore.Metered> usage(String tenant, Instant from, Instant to) {
        if (!from.isBefore(to)) throw AegisException.invalid("from", "must be before to");
        return tasks.usage(tenant, from, to);
    }

    static String actor() {
        return ACTOR.orElse("local");
    }

    /**
     * The sandbox of one instance of {@code agent}; the token is the instance's agent-API credential. The agent's
     * secrets are in its environment only: never on a command line, in a file or in another agent's sandbox.
     */
    SandboxSpec spec(Agent agent, InstanceId id, String token, InjectedSecrets injected, List<SandboxSpec.Mount> mounts,
                     Optional<Path> egressSocket) {
        Map<String, String> env = new HashMap<>(injected.env());
        env.putAll(Map.of("AEGIS_TOKEN", token, "AEGIS_AGENT", agent.name(), "AEGIS_TENANT", agent.tenant()));
        return new SandboxSpec(id, agent.manifest(), agent.codeDir(), config.agentSocket(), config.agentLib(), egressSocket, env,
                mounts, config.output());
    }

    /**
     * Opens the egress grant of instance {@code id} when the manifest lists {@code permissions.network.egress}, and
     * returns its socket for {@link SandboxSpec#egressSocket()}; without entries there is no socket, as if there
     * were no proxy. The caller closes it with {@link EgressGate#close} once the instance is gone, however it went.
     * The grant's task is whatever task the instance's agent-API token is bound to when a connection starts.
     */
    Optional<Path> openEgress(Agent agent, InstanceId id, String token) {
        List<EgressRule> rules = egressRules(agent.manifest());
        if (rules.isEmpty()) return Optional.empty();
        String key = agent.tenant() + "/" + agent.name();
        egressRules.putIfAbsent(key, rules); // deployed before this node started: the stored manifest is the latest
        return Optional.of(egress.open(new EgressGrant(agent.tenant(), agent.name(), id,
                () -> sessions.find(token).map(Session::taskId).filter(t -> !t.isEmpty()),
                () -> egressRules.getOrDefault(key, rules))));
    }

    private static List<EgressRule> egressRules(Manifest manifest) {
        return manifest.permissions().network().egress().stream().map(EgressRule::parse).toList();
    }

    /**
     * The sandbox of an MCP stdio tool server: its own manifest's grants (checked against the approved host folders
     * like an agent's) and limits, no secrets and no agent-API token. {@code codeDir} is mounted at /agent. Its
     * egress is an agent's: the proxy's socket of a grant its caller opened for the server's own entries (the runtime
     * mounts it and sets the proxy variables), or, without entries, none.
     *
     * @throws AegisException {@code policy_denied} naming the grant that no approved folder covers
     */
    public SandboxSpec toolServerSpec(ToolServer server, InstanceId id, java.nio.file.Path codeDir, Optional<Path> egressSocket) {
        List<SandboxSpec.Mount> mounts = FolderGrants.mounts(folders, server.tenant(), server.manifest());
        return new SandboxSpec(id, server.manifest(), codeDir, config.agentSocket(), config.agentLib(), egressSocket,
                Map.of("AEGIS_TENANT", server.tenant(), "AEGIS_TOOL_SERVER", server.name()), mounts, config.output());
    }

    static InstanceId newInstanceId() {
        return new InstanceId("i-" + UUID.randomUUID().toString().substring(0, 8) + "-" + Long.toString(System.nanoTime() & 0xffffff, 36));
    }

    private WarmPools.Warm spawnWarm(Agent agent) {
        AgentRuntime runtime = runtimes.get(agent.manifest().runtime());
        InstanceId id = newInstanceId();
        InjectedSecrets injected = secrets.inject(agent);
        List<SandboxSpec.Mount> mounts = FolderGrants.mounts(folders, agent.tenant(), agent.manifest());
        // Not bound to a task yet: the agent waits on stdin, and the token is rebound when a task takes it.
        String token = sessions.open(new Session(agent.tenant(), "", id, agent,
                new Policy(agent.manifest(), config.limits()), line -> { }));
        try {
            runtime.spawn(spec(agent, id, token, injected, mounts, openEgress(agent, id, token)));
        } catch (RuntimeException e) {
            sessions.close(token);
            egress.close(id);
            throw e;
        }
        return new WarmPools.Warm(agent, id, token, clock.instant(), injected, mounts);
    }

    /** Ends a warm instance that will never run a task: its token, its sandbox, its egress grant. */
    void killWarm(WarmPools.Warm warm) {
        sessions.close(warm.token());
        try {
            runtimes.get(warm.agent().manifest().runtime()).terminate(warm.id());
        } finally {
            egress.close(warm.id());
        }
    }

    private static void requireJson(String inputJson) {
        try {
            JSON.readTree(inputJson);
        } catch (JacksonException e) {
            throw AegisException.invalid("input", "is not valid JSON: " + e.getOriginalMessage());
        }
    }
}
