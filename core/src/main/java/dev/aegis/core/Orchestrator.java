package dev.aegis.core;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The control plane of one node: deploys agents and runs each task through the execution flow
 * (policy check, fresh sandbox, execution, store, cleanup), recording every lifecycle transition.
 * Talks to the world only through ports; the {@code cli} module wires real adapters in.
 */
public final class Orchestrator {
    /**
     * @param agentSocket   host path of the agent-API unix socket mounted into every sandbox
     * @param agentLib      host folder holding the {@code aegis_agent} Python module
     * @param maxConcurrent sandboxes running at once on this node
     * @param maxQueued     tasks waiting for a slot before new ones are refused
     */
    public record Config(Path agentSocket, Path agentLib, OperatorLimits limits, SandboxSpec.OutputLimits output,
                         int maxConcurrent, int maxQueued) {}

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Config config;
    private final Map<String, AgentRuntime> runtimes;
    private final AgentStore agents;
    private final TaskStore tasks;
    private final AgentFiles files;
    private final Sessions sessions;
    private final Clock clock;
    private final TaskEvents events = new TaskEvents();
    private final Semaphore slots;
    private final AtomicInteger waiting = new AtomicInteger();
    private final Map<String, Running> running = new ConcurrentHashMap<>();
    private volatile boolean closing;

    public Orchestrator(Config config, List<AgentRuntime> runtimes, AgentStore agents, TaskStore tasks,
                        AgentFiles files, Sessions sessions, Clock clock) {
        this.config = config;
        Map<String, AgentRuntime> byName = new HashMap<>();
        for (AgentRuntime r : runtimes) byName.put(r.name(), r);
        this.runtimes = Map.copyOf(byName);
        this.agents = agents;
        this.tasks = tasks;
        this.files = files;
        this.sessions = sessions;
        this.clock = clock;
        this.slots = new Semaphore(config.maxConcurrent(), true);
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
                tasks.addTransition(new Transition(t.id(), last.instanceId(), Optional.of(last.to()),
                        InstanceState.FAILED, now, "orchestrator restarted"));
            }
            tasks.update(t.failed(TaskState.FAILED, new Task.TaskError("orchestrator_restarted",
                    "orchestrator restarted while the task was " + t.state().name().toLowerCase()), Optional.empty(), now));
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
        List<Running> live = List.copyOf(running.values());
        live.forEach(Running::cancel);
        long deadline = System.nanoTime() + grace.toNanos();
        for (Running r : live) {
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
        if (new Policy(manifest, config.limits()).resources() instanceof Decision.Deny(String reason))
            throw new AegisException("policy_denied", reason, "resources");
        AgentFiles.Installed installed = files.install(tenant, manifest.name(), folder);
        Agent agent = new Agent(tenant, manifest, yaml, installed.dir(), installed.digest(), clock.instant());
        agents.save(agent);
        return agent;
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
        return submit(tenant, agentName, inputJson, null);
    }

    /** As {@link #submit(String, String, String)}, with {@code listener} subscribed before the task starts. */
    public Task submit(String tenant, String agentName, String inputJson, TaskEvents.Listener listener) {
        Agent agent = agent(tenant, agentName);
        requireJson(inputJson);
        if (closing) throw new AegisException("overloaded", "this node is shutting down; retry on another node");
        if (waiting.incrementAndGet() > config.maxQueued()) {
            waiting.decrementAndGet();
            throw new AegisException("overloaded", "too many queued tasks (" + config.maxQueued() + "); retry later");
        }
        Task task = Task.queued(UUID.randomUUID().toString(), tenant, agent.name(), inputJson, clock.instant());
        Running run;
        try {
            tasks.create(task);
            run = new Running(task, agent);
        } catch (RuntimeException e) {
            waiting.decrementAndGet();
            throw e;
        }
        running.put(task.id(), run);
        if (listener != null) events.subscribe(task.id(), listener);
        Thread.ofVirtual().name("task-" + task.id()).start(run::run);
        return task;
    }

    /** Waits up to {@code timeout} for the task to end and returns it as it is then. */
    public Task await(String tenant, String taskId, Duration timeout) {
        Running run = running.get(taskId);
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

    public List<Transition> transitions(String tenant, String taskId) {
        task(tenant, taskId);
        return tasks.transitions(taskId);
    }

    public List<LogLine> logs(String tenant, String taskId, long afterSeq) {
        task(tenant, taskId);
        Running run = running.get(taskId);
        if (run != null) run.flushLogs();
        return tasks.logs(taskId, afterSeq);
    }

    /** Cancels a queued or running task. Returns the task; a task already ended is returned unchanged. */
    public Task cancel(String tenant, String taskId) {
        Task task = task(tenant, taskId);
        Running run = running.get(taskId);
        if (run == null) return task;
        run.cancel();
        return await(tenant, taskId, Duration.ofSeconds(10));
    }

    private static void requireJson(String inputJson) {
        try {
            JSON.readTree(inputJson);
        } catch (JacksonException e) {
            throw AegisException.invalid("input", "is not valid JSON: " + e.getOriginalMessage());
        }
    }

    /** One task on its way through the flow; owned by its virtual thread. */
    private final class Running {
        private final Agent agent;
        private final CompletableFuture<Task> done = new CompletableFuture<>();
        private final List<LogLine> unsaved = new ArrayList<>();
        private Task task;
        private long seq;
        private long logBytes;
        private volatile boolean cancelled;
        private volatile InstanceId instance;
        private volatile AgentRuntime runtime;
        private InstanceState state = InstanceState.COLD;

        Running(Task task, Agent agent) {
            this.task = task;
            this.agent = agent;
            tasks.addTransition(new Transition(task.id(), "", Optional.empty(), InstanceState.COLD, task.createdAt(),
                    "task accepted"));
        }

        void cancel() {
            cancelled = true;
            InstanceId id = instance;
            if (id != null) runtime.terminate(id);
        }

        void run() {
            boolean slot = false;
            try {
                slots.acquire();
                slot = true;
                waiting.decrementAndGet();
                finish(execute());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                finish(fail(TaskState.FAILED, "interrupted", "orchestrator shutting down", Optional.empty()));
            } catch (RuntimeException e) {
                finish(fail(TaskState.FAILED, "internal_error", e.toString(), Optional.empty()));
            } finally {
                if (slot) slots.release();
                else waiting.decrementAndGet();
            }
        }

        private Task execute() {
            if (cancelled) return stopped("while queued");
            Policy policy = new Policy(agent.manifest(), config.limits());
            if (policy.resources() instanceof Decision.Deny(String reason))
                return fail(TaskState.FAILED, "policy_denied", reason, Optional.empty());
            runtime = runtimes.get(agent.manifest().runtime());
            if (runtime == null)
                return fail(TaskState.FAILED, "runtime_unavailable", "runtime " + agent.manifest().runtime() + " is gone", Optional.empty());
            task = task.running(clock.instant());
            tasks.update(task);
            InstanceId id = new InstanceId("i-" + task.id().substring(0, 8) + "-" + Long.toString(System.nanoTime() & 0xffffff, 36));
            String token = sessions.open(new Session(task.tenant(), task.id(), id, agent, policy, this::log));
            try {
                Map<String, String> env = Map.of("AEGIS_TOKEN", token, "AEGIS_TASK_ID", task.id(),
                        "AEGIS_AGENT", agent.name(), "AEGIS_TENANT", task.tenant());
                SandboxSpec spec = new SandboxSpec(id, agent.manifest(), agent.codeDir(), config.agentSocket(),
                        config.agentLib(), env, List.of(), config.output());
                long t0 = System.nanoTime();
                runtime.spawn(spec);
                instance = id;
                move(InstanceState.WARM, "sandbox booted by " + runtime.name() + " in " + millis(t0) + " ms");
                if (cancelled) return stopped("before start");
                move(InstanceState.HOT, "task handed to agent");
                Outcome outcome = runtime.execute(id, task.input(), this::log);
                return judge(outcome);
            } catch (RuntimeFailure e) {
                return fail(TaskState.FAILED, "runtime_failure", e.getMessage(), Optional.empty());
            } finally {
                sessions.close(token);
                if (instance != null) runtime.terminate(instance);
            }
        }

        private Task judge(Outcome outcome) {
            if (cancelled) return stopped("while running");
            return switch (outcome) {
                case Outcome.TimedOut(Duration after) -> fail(TaskState.FAILED, "timeout",
                        "killed after the manifest's timeout of " + after.toMillis() + " ms", Optional.empty());
                case Outcome.Killed(String reason) -> fail(TaskState.FAILED, "killed", reason, Optional.empty());
                case Outcome.Exited(int code, String out, boolean truncated) when truncated -> fail(TaskState.FAILED,
                        "output_too_large", "result exceeds " + config.output().maxResultBytes() + " bytes", Optional.of(code));
                case Outcome.Exited(int code, String out, boolean truncated) when code != 0 -> fail(TaskState.FAILED,
                        "exit_code", "agent exited with code " + code + lastLogHint(), Optional.of(code));
                case Outcome.Exited(int code, String out, boolean truncated) -> succeedIfJson(out, code);
            };
        }

        private Task succeedIfJson(String out, int code) {
            if (out.isBlank())
                return fail(TaskState.FAILED, "bad_output", "agent printed no result on stdout (expected JSON)", Optional.of(code));
            try {
                String normalized = JSON.writeValueAsString(JSON.readTree(out));
                move(InstanceState.TERMINATED, "agent exited 0");
                return task.succeeded(normalized, code, clock.instant());
            } catch (JacksonException e) {
                String head = out.strip().lines().findFirst().orElse("");
                if (head.length() > 80) head = head.substring(0, 80) + "…";
                return fail(TaskState.FAILED, "bad_output", "agent's stdout is not JSON: \"" + head + "\"", Optional.of(code));
            }
        }

        /** A cancel by a client, or the node shutting down: the latter is a failure the client did not ask for. */
        private Task stopped(String when) {
            return closing ? fail(TaskState.FAILED, "orchestrator_shutdown", "the orchestrator shut down " + when, Optional.empty())
                    : fail(TaskState.CANCELLED, "cancelled", "cancelled " + when, Optional.empty());
        }

        private String lastLogHint() {
            return seq == 0 ? " and wrote no logs" : "; see the task's logs";
        }

        private Task fail(TaskState state, String code, String message, Optional<Integer> exit) {
            if (!this.state.isFinal()) move(InstanceState.FAILED, code + ": " + message);
            return task.failed(state, new Task.TaskError(code, message), exit, clock.instant());
        }

        private void move(InstanceState to, String reason) {
            if (!state.canMoveTo(to)) throw new IllegalStateException("lifecycle: " + state + " -> " + to + " is not allowed");
            tasks.addTransition(new Transition(task.id(), instance == null ? "" : instance.value(), Optional.of(state), to,
                    clock.instant(), reason));
            state = to;
        }

        /** Stderr lines and agent-API log calls share one cap, so neither path can grow the store without bound. */
        private synchronized void log(String line) {
            long max = config.output().maxLogBytes();
            if (logBytes > max) return;
            logBytes += line.length() + 1;
            if (logBytes > max) line = "[aegis] logs cut at " + max + " bytes; later lines dropped";
            LogLine l = new LogLine(task.id(), ++seq, clock.instant(), line);
            unsaved.add(l);
            events.line(l);
            if (unsaved.size() >= 256) flushLogs();
        }

        synchronized void flushLogs() {
            if (unsaved.isEmpty()) return;
            tasks.appendLogs(List.copyOf(unsaved));
            unsaved.clear();
        }

        private void finish(Task end) {
            task = end;
            flushLogs();
            tasks.update(end);
            running.remove(end.id());
            done.complete(end);
            events.ended(end);
        }

        private static long millis(long t0) {
            return (System.nanoTime() - t0) / 1_000_000;
        }
    }
}
