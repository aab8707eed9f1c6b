package dev.aegis.core;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Child tasks: an agent starts tasks of other agents of its tenant ({@code tasks.delegate}), as far as its manifest's
 * {@code permissions.delegate} and the operator's depth and fan-out limits allow. A child is an ordinary task of the
 * same tenant (so it counts against the tenant's quotas and queue share) that remembers its parent. When the parent
 * fails or is cancelled, its unfinished children are cancelled too, unless they were started with
 * {@code cancelWithParent = false}; a parent that succeeds leaves running children to finish.
 */
public final class Delegation {
    /**
     * @param maxDepth    levels of children below a task a client submitted (1: children, no grandchildren)
     * @param maxChildren children one task may start in its life
     * @param maxWait     the longest a delegate or a result call may wait for a child
     */
    public record Limits(int maxDepth, int maxChildren, Duration maxWait) {
        public static final Limits DEFAULT = new Limits(4, 32, Duration.ofMinutes(15));

        public Limits {
            if (maxDepth < 0 || maxChildren < 0) throw new IllegalArgumentException("delegation limits must be >= 0");
        }
    }

    private final Orchestrator o;
    private final Limits limits;
    /** Children started with cancelWithParent = false; the rest follow their parent's failure. */
    private final Set<String> detached = ConcurrentHashMap.newKeySet();

    Delegation(Orchestrator o, Limits limits) {
        this.o = o;
        this.limits = limits;
    }

    /**
     * Starts a child of the session's task and, when {@code wait} is above zero, waits that long for it to end.
     *
     * @return the child as it is when this returns (ended, or still queued or running)
     */
    public Task delegate(Session s, String agent, String inputJson, Duration wait, boolean cancelWithParent) {
        Locks.Holder caller = AgentLocks.holder(s);
        wait = bounded(wait);
        Decision d = s.policy().delegate(agent);
        if (d instanceof Decision.Deny deny) {
            o.audit.append(AuditEvent.decided(s.tenant(), Orchestrator.actor(), "policy.delegate", "agent:" + agent, d)
                    .withAgent(caller.agent()).withTask(caller.taskId()).withDetails(Map.of()));
            throw AegisException.denied(deny.reason());
        }
        Task parent = o.task(s.tenant(), s.taskId());
        int depth = depth(parent) + 1;
        if (depth > limits.maxDepth())
            throw new AegisException("limit_exceeded", "a child here would be " + depth + " levels below its root task; "
                    + "the operator allows " + limits.maxDepth());
        int started = o.tasks.children(parent.id()).size();
        if (started >= limits.maxChildren())
            throw new AegisException("limit_exceeded", "task " + parent.id() + " already started " + started
                    + " children; the operator allows " + limits.maxChildren() + " per task");
        o.agent(s.tenant(), agent); // not_found before anything is recorded
        o.audit.append(AuditEvent.of(s.tenant(), Orchestrator.actor(), "task.delegate", "agent:" + agent,
                        Map.of("depth", Integer.toString(depth), "cancel_with_parent", Boolean.toString(cancelWithParent)))
                .withAgent(caller.agent()).withTask(caller.taskId()));
        Task child = o.submit(s.tenant(), agent, inputJson, Orchestrator.DEFAULT_PRIORITY, null, Optional.of(parent.id()));
        if (!cancelWithParent) detached.add(child.id());
        return wait.isZero() ? child : o.await(s.tenant(), child.id(), wait);
    }

    /** One of the caller's own children, after waiting up to {@code wait} for it to end. */
    public Task child(Session s, String taskId, Duration wait) {
        AgentLocks.holder(s);
        Duration w = bounded(wait);
        Task t = o.tasks.find(taskId).filter(c -> c.tenant().equals(s.tenant()) && c.parent().equals(Optional.of(s.taskId())))
                .orElseThrow(() -> AegisException.notFound("task \"" + taskId + "\" is not a child of this task"));
        return w.isZero() || t.state().isFinal() ? t : o.await(s.tenant(), taskId, w);
    }

    /** The caller's children, oldest first. */
    public List<Task> children(Session s) {
        AgentLocks.holder(s);
        return o.tasks.children(s.taskId());
    }

    /** A failed or cancelled task takes its unfinished, attached children with it (each, in turn, its own). */
    void ended(Task t) {
        detached.remove(t.id());
        if (t.state() != TaskState.FAILED && t.state() != TaskState.CANCELLED) return;
        List<Task> children = o.tasks.children(t.id()).stream()
                .filter(c -> !c.state().isFinal() && !detached.contains(c.id())).toList();
        if (children.isEmpty()) return;
        // Off the parent's thread: a cancel waits for its child to end.
        Thread.ofVirtual().name("cascade-" + t.id()).start(() -> ScopedValue.where(Orchestrator.ACTOR, "system").run(() -> {
            for (Task c : children) {
                try {
                    o.audit.append(AuditEvent.of(c.tenant(), "system", "task.cascade", "task:" + c.id(),
                            Map.of("parent", t.id(), "parent_state", t.state().name().toLowerCase())).withAgent(c.agent()).withTask(c.id()));
                    o.cancel(c.tenant(), c.id());
                } catch (RuntimeException e) {
                    // it ended meanwhile, or the node is closing: nothing left to cancel
                }
            }
        }));
    }

    private int depth(Task t) {
        int depth = 0;
        for (Optional<String> p = t.parent(); p.isPresent() && depth <= limits.maxDepth(); depth++)
            p = o.tasks.find(p.get()).flatMap(Task::parent);
        return depth;
    }

    /** A wait is "up to": one longer than the operator allows waits that long, and the caller sees the child still running. */
    private Duration bounded(Duration wait) {
        if (wait.isNegative()) throw AegisException.invalid("timeout_ms", wait.toMillis() + " is negative");
        return wait.compareTo(limits.maxWait()) > 0 ? limits.maxWait() : wait;
    }
}
