package dev.aegis.core;

import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * The lock calls of the agent API: the caller is the session's task, names are checked against the manifest
 * ({@code permissions.locks}), bounds against the operator's, and the {@link Locks} port does the rest. A denied
 * name is audited here; grants, waits, releases and expiries are audited by the port. Every lock of a task is
 * released when the task ends, whatever ended it.
 */
public final class AgentLocks {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.-]+(/[A-Za-z0-9_.-]+)*");

    /**
     * @param maxTtl  the longest lease one grant or renewal may ask for
     * @param maxWait the longest an acquire may wait in a queue
     */
    public record Limits(Duration maxTtl, Duration maxWait) {
        public static final Limits DEFAULT = new Limits(Duration.ofMinutes(10), Duration.ofMinutes(5));
    }

    public static final Duration DEFAULT_TTL = Duration.ofSeconds(30);

    private final Locks locks;
    private final AuditLog audit;
    private final Limits limits;

    public AgentLocks(Locks locks, AuditLog audit, Limits limits) {
        this.locks = locks;
        this.audit = audit;
        this.limits = limits;
    }

    /**
     * Waits up to {@code timeout} for the lock.
     *
     * @throws AegisException {@code policy_denied}, {@code lock_timeout} or {@code deadlock}
     */
    public Locks.Lease acquire(Session s, String name, Locks.Mode mode, Duration ttl, Duration timeout) {
        Locks.Holder holder = holder(s);
        check(s, name);
        within("ttl_ms", ttl, Duration.ofMillis(1), limits.maxTtl());
        within("timeout_ms", timeout, Duration.ZERO, limits.maxWait());
        return switch (locks.acquire(new Locks.Request(holder, name, mode, ttl, timeout))) {
            case Locks.Acquired.Granted(Locks.Lease lease) -> lease;
            case Locks.Acquired.TimedOut(Duration waited, String heldBy) -> throw new AegisException("lock_timeout",
                    "lock \"" + name + "\" was not granted within " + waited.toMillis() + " ms; held by " + heldBy);
            case Locks.Acquired.Deadlock(java.util.List<String> cycle) -> throw new AegisException("deadlock",
                    "waiting for lock \"" + name + "\" would deadlock: " + String.join("; ", cycle)
                            + ". Release a lock and retry, or take locks in one global order");
        };
    }

    public Locks.Lease renew(Session s, String name, long token, Optional<Duration> ttl) {
        Locks.Holder holder = holder(s);
        check(s, name);
        ttl.ifPresent(t -> within("ttl_ms", t, Duration.ofMillis(1), limits.maxTtl()));
        return locks.renew(holder, name, token, ttl);
    }

    /** False when the lease had already ended (expired): the caller's work under it may have raced another. */
    public boolean release(Session s, String name, long token) {
        Locks.Holder holder = holder(s);
        check(s, name);
        return locks.release(holder, name, token);
    }

    /** Releases whatever the task still holds; called when it reached a final state. */
    void ended(Task t) {
        locks.releaseAll(t.tenant(), t.id(), "task " + t.state().name().toLowerCase());
    }

    static Locks.Holder holder(Session s) {
        if (s.taskId().isEmpty())
            throw AegisException.conflict("this instance has no task yet; coordination calls need one");
        return new Locks.Holder(s.tenant(), s.taskId(), s.agent().name());
    }

    private void check(Session s, String name) {
        if (name.length() > 256 || !NAME.matcher(name).matches())
            throw AegisException.invalid("name", "\"" + name + "\" is not a lock name: use letters, digits, _ . - "
                    + "in segments separated by /, at most 256 characters");
        Decision d = s.policy().lock(name);
        if (d instanceof Decision.Deny deny) {
            audit.append(AuditEvent.decided(s.tenant(), Orchestrator.actor(), "policy.lock", "lock:" + name, d)
                    .withAgent(s.agent().name()).withTask(s.taskId()).withDetails(Map.of()));
            throw AegisException.denied(deny.reason());
        }
    }

    private static void within(String field, Duration d, Duration min, Duration max) {
        if (d.compareTo(min) < 0 || d.compareTo(max) > 0)
            throw AegisException.invalid(field, d.toMillis() + " is outside " + min.toMillis() + ".." + max.toMillis());
    }
}
