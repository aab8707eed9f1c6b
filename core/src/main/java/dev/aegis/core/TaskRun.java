package dev.aegis.core;

import com.fasterxml.jackson.core.JacksonException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;

/**
 * One task on its way through the flow: queued in the {@link Scheduler}, then on its own virtual thread through
 * policy check, a warm or freshly booted sandbox, execution, judgement of the outcome, store and cleanup.
 * Every lifecycle step is recorded as it happens.
 */
final class TaskRun implements Scheduler.Job {

    private final Orchestrator o;
    private final Agent agent;
    private final int priority;
    final CompletableFuture<Task> done = new CompletableFuture<>();
    private final List<LogLine> unsaved = new ArrayList<>();
    /** Transitions not yet written: each step of the flow is written in one transaction with the task row. */
    private final List<Transition> pending = new ArrayList<>();
    private Task task;
    private long seq;
    private long logBytes;
    private volatile boolean cancelled;
    private volatile InstanceId instance;
    private volatile AgentRuntime runtime;
    /** The secrets in this task's sandbox: every log line, the result and error texts are scrubbed of them. */
    private volatile InjectedSecrets injected = InjectedSecrets.NONE;
    private InstanceState state = InstanceState.COLD;

    TaskRun(Orchestrator o, Task task, Agent agent, int priority) {
        this.o = o;
        this.task = task;
        this.agent = agent;
        this.priority = priority;
        pending.add(new Transition(task.id(), "", Optional.empty(), InstanceState.COLD, task.createdAt(), "task accepted"));
    }

    /**
     * Stores the accepted task with its first transition; before this returns, the task is not accepted. Its one
     * audit record is the {@code Cold} step, by the submitting actor, with the input's hash.
     */
    synchronized void accept() {
        o.audit.append(auditOf(task.tenant(), agent.name(), pending.getFirst()).withActor(Orchestrator.actor())
                .withDetails(Map.of("priority", Integer.toString(priority), "input_sha256", Hashes.sha256(task.input()))));
        List<Transition> steps = List.copyOf(pending);
        o.tasks.record(task, true, steps, List.of());
        pending.clear();
        o.events.moved(task, steps);
    }

    /** The audit record of one lifecycle step. */
    static AuditEvent auditOf(String tenant, String agent, Transition t) {
        return AuditEvent.of(tenant, "system", "lifecycle." + t.to().name().toLowerCase(),
                t.instanceId().isEmpty() ? "task:" + t.taskId() : "instance:" + t.instanceId(), Map.of())
                .withAgent(agent).withTask(t.taskId()).withDetails(Map.of("reason", t.reason()));
    }

    /** Audit first, then store: a step in the store is never missing from the audit log. */
    private void audited(List<Transition> steps) {
        for (Transition t : steps) o.audit.append(auditOf(task.tenant(), agent.name(), t));
    }

    Optional<InstanceId> instance() {
        return Optional.ofNullable(instance);
    }

    Agent agent() {
        return agent;
    }

    String taskId() {
        return task.id();
    }

    @Override
    public String tenant() {
        return task.tenant();
    }

    @Override
    public String agentKey() {
        return WarmPools.key(agent);
    }

    @Override
    public int agentLimit() {
        return agent.manifest().pool().max();
    }

    @Override
    public int priority() {
        return priority;
    }

    @Override
    public void start() {
        Thread.ofVirtual().name("task-" + task.id()).start(this::run);
    }

    /** The scheduler refused the task: it ends failed with the same reason the client gets. */
    void refused(AegisException why) {
        finish(fail(TaskState.FAILED, why.code(), why.getMessage(), Optional.empty()));
    }

    void cancel() {
        cancelled = true;
        if (o.scheduler.remove(this)) {
            finish(stopped("while queued"));
            return;
        }
        InstanceId id = instance;
        if (id != null) runtime.terminate(id);
    }

    private void run() {
        o.pools.started(agent);
        try {
            finish(execute());
        } catch (RuntimeException e) {
            finish(fail(TaskState.FAILED, "internal_error", e.toString(), Optional.empty()));
        } finally {
            o.pools.released(agent);
            o.scheduler.finished(this);
        }
    }

    private Task execute() {
        if (cancelled) return stopped("while queued");
        Policy policy = new Policy(agent.manifest(), o.config.limits());
        if (policy.resources() instanceof Decision.Deny(String reason))
            return fail(TaskState.FAILED, "policy_denied", reason, Optional.empty());
        runtime = o.runtimes.get(agent.manifest().runtime());
        if (runtime == null)
            return fail(TaskState.FAILED, "runtime_unavailable", "runtime " + agent.manifest().runtime() + " is gone", Optional.empty());
        InjectedSecrets wanted;
        try {
            wanted = o.secrets.inject(agent);
        } catch (AegisException e) {
            return fail(TaskState.FAILED, e.code(), e.getMessage(), Optional.empty());
        }
        injected = wanted;
        task = task.running(o.clock.instant());
        Session session = new Session(task.tenant(), task.id(), null, agent, policy, this::log);
        String token = null;
        CompletableFuture<Void> recorded = CompletableFuture.completedFuture(null);
        FolderGrants.WriteAudit writes = null;
        InstanceId egressOf = null; // whose egress grant to close at the end, even if the spawn failed
        try {
            Optional<WarmPools.Warm> warm = takeWarm(wanted);
            List<SandboxSpec.Mount> mounts;
            if (warm.isPresent()) {
                mounts = warm.get().mounts();
                token = warm.get().token();
                instance = warm.get().id();
                egressOf = instance;
                o.sessions.rebind(token, session.on(instance));
                move(InstanceState.WARM, "taken from the warm pool (booted "
                        + Duration.between(warm.get().bootedAt(), o.clock.instant()).toMillis() + " ms before)");
            } else {
                // Resolved again at every boot: a symlink on the host may have changed since deploy.
                mounts = FolderGrants.mounts(o.folders, agent.tenant(), agent.manifest());
                InstanceId id = Orchestrator.newInstanceId();
                token = o.sessions.open(session.on(id));
                egressOf = id;
                Optional<java.nio.file.Path> egressSocket = o.openEgress(agent, id, token);
                long t0 = System.nanoTime();
                runtime.spawn(o.spec(agent, id, token, wanted, mounts, egressSocket));
                instance = id;
                java.time.Duration took = java.time.Duration.ofNanos(System.nanoTime() - t0);
                o.events.booted(runtime.name(), took);
                move(InstanceState.WARM, "sandbox booted by " + runtime.name() + " in " + took.toMillis() + " ms");
            }
            if (cancelled) return stopped("before start");
            writes = new FolderGrants.WriteAudit(o.folders, mounts);
            if (!writes.isEmpty()) writes.before(); // the agent has not run yet: the shim waits for the task
            move(InstanceState.HOT, "task handed to agent");
            // Recorded while the agent starts, not before: a warm dispatch then costs no fsync. The end of the task
            // waits for this record, so the store and the audit log still see every step in order.
            Task dispatched = task;
            recorded = CompletableFuture.runAsync(() -> persist(dispatched), r -> Thread.ofVirtual().start(r));
            Outcome outcome = runtime.execute(instance, task.input(), this::log);
            recorded.join();
            // The agent is done: its egress ends now (cutting what it left open), so the count is final.
            long egressBytes = o.egress.close(instance);
            Optional<Usage> used = runtime instanceof Metered meter ? meter.usage(instance) : Optional.empty();
            if (used.isPresent() || egressBytes > 0) task = task.withUsage(used.orElse(Usage.NONE).withEgressBytes(egressBytes));
            return judge(outcome);
        } catch (RuntimeFailure e) {
            return fail(TaskState.FAILED, "runtime_failure", e.getMessage(), Optional.empty());
        } catch (AegisException e) {
            return fail(TaskState.FAILED, e.code(), e.getMessage(), Optional.empty());
        } finally {
            if (token != null) o.sessions.close(token);
            try {
                if (instance != null) runtime.terminate(instance);
            } finally {
                if (egressOf != null) o.egress.close(egressOf);
            }
            // After the sandbox is gone, so nothing writes any more; before the task's end record.
            if (writes != null && !writes.isEmpty())
                for (AuditEvent e : writes.after(task.tenant(), agent.name(), task.id())) o.audit.append(e);
            // Even when execute threw: the end must be written after the dispatch step, never before it.
            recorded.exceptionally(e -> null).join();
        }
    }

    /**
     * A warm instance that is still waiting with the current secret values; one that died in the pool, or was booted
     * with values since changed, is discarded.
     */
    private Optional<WarmPools.Warm> takeWarm(InjectedSecrets wanted) {
        for (Optional<WarmPools.Warm> w; (w = o.pools.take(agent)).isPresent(); ) {
            if (w.get().secrets().sameValues(wanted) && runtime.status(w.get().id()) == InstanceState.WARM) return w;
            o.killWarm(w.get());
        }
        return Optional.empty();
    }

    private Task judge(Outcome outcome) {
        if (cancelled) return stopped("while running");
        return switch (outcome) {
            case Outcome.TimedOut(Duration after) -> fail(TaskState.FAILED, "timeout",
                    "killed after the manifest's timeout of " + after.toMillis() + " ms", Optional.empty());
            case Outcome.Killed(String reason) when reason.startsWith("out of memory") ->
                    fail(TaskState.FAILED, "oom", reason, Optional.empty());
            case Outcome.Killed(String reason) when reason.startsWith("pids limit") ->
                    fail(TaskState.FAILED, "pids", reason, Optional.empty());
            case Outcome.Killed(String reason) -> fail(TaskState.FAILED, "killed", reason, Optional.empty());
            case Outcome.Exited(int code, String out, boolean truncated) when truncated -> fail(TaskState.FAILED,
                    "output_too_large", "result exceeds " + o.config.output().maxResultBytes() + " bytes", Optional.of(code));
            case Outcome.Exited(int code, String out, boolean truncated) when code != 0 -> fail(TaskState.FAILED,
                    "exit_code", "agent exited with code " + code + (seq == 0 ? " and wrote no logs" : "; see the task's logs"),
                    Optional.of(code));
            case Outcome.Exited(int code, String out, boolean truncated) -> succeedIfJson(out, code);
        };
    }

    private Task succeedIfJson(String raw, int code) {
        String out = injected.scrub(raw);
        if (out.isBlank())
            return fail(TaskState.FAILED, "bad_output", "agent printed no result on stdout (expected JSON)", Optional.of(code));
        try {
            // Scrubbed again after parsing: parsing turns an escaped secret (\u0041...) back into its plain value.
            String normalized = injected.scrubJson(out);
            move(InstanceState.TERMINATED, "completed: agent exited 0");
            return task.succeeded(normalized, code, o.clock.instant());
        } catch (JacksonException e) {
            String head = out.strip().lines().findFirst().orElse("");
            if (head.length() > 80) head = head.substring(0, 80) + "…";
            return fail(TaskState.FAILED, "bad_output", "agent's stdout is not JSON: \"" + head + "\"", Optional.of(code));
        }
    }

    /** A cancel by a client, or the node shutting down: the latter is a failure the client did not ask for. */
    private Task stopped(String when) {
        return o.closing ? fail(TaskState.FAILED, "orchestrator_shutdown", "the orchestrator shut down " + when, Optional.empty())
                : fail(TaskState.CANCELLED, "cancelled", "cancelled " + when, Optional.empty());
    }

    private Task fail(TaskState end, String code, String raw, Optional<Integer> exit) {
        String message = injected.scrub(raw);
        if (!state.isFinal()) move(InstanceState.FAILED, code + ": " + message);
        return task.failed(end, new Task.TaskError(code, message), exit, o.clock.instant());
    }

    private synchronized void move(InstanceState to, String reason) {
        if (!state.canMoveTo(to)) throw new IllegalStateException("lifecycle: " + state + " -> " + to + " is not allowed");
        pending.add(new Transition(task.id(), instance == null ? "" : instance.value(), Optional.of(state), to,
                o.clock.instant(), reason));
        state = to;
    }

    /** Writes the task row, the pending transitions and the unsaved log lines as one durable step. */
    private synchronized void persist(Task t) {
        audited(pending);
        if (t.state().isFinal()) o.audit.append(AuditEvent.of(t.tenant(), "system", "task.result", "task:" + t.id(),
                        Map.of("state", t.state().name().toLowerCase(), "result_sha256", t.result().map(Hashes::sha256).orElse(""),
                                "error", t.error().map(e -> e.code() + ": " + e.message()).orElse("")))
                .withAgent(agent.name()).withTask(t.id()));
        List<Transition> steps = List.copyOf(pending);
        o.tasks.record(t, false, steps, List.copyOf(unsaved));
        pending.clear();
        unsaved.clear();
        o.events.moved(t, steps);
    }

    /** Stderr lines and agent-API log calls share one cap, so neither path can grow the store without bound. */
    private synchronized void log(String raw) {
        String line = injected.scrub(raw);
        long max = o.config.output().maxLogBytes();
        if (logBytes > max) return;
        logBytes += line.length() + 1;
        if (logBytes > max) line = "[aegis] logs cut at " + max + " bytes; later lines dropped";
        LogLine l = new LogLine(task.id(), ++seq, o.clock.instant(), line);
        unsaved.add(l);
        o.events.line(l);
        if (unsaved.size() >= 256) flushLogs();
    }

    synchronized void flushLogs() {
        if (unsaved.isEmpty()) return;
        o.tasks.appendLogs(List.copyOf(unsaved));
        unsaved.clear();
    }

    /** Records the end once: a cancel racing the task's own end must not write two final states. */
    private synchronized void finish(Task end) {
        if (done.isDone()) return;
        task = end;
        persist(end);
        o.running.remove(end.id());
        // Observers first (they release the task's locks and subscriptions), so whoever awaits the end finds
        // them released.
        try {
            o.events.ended(end);
        } finally {
            done.complete(end);
        }
    }
}
