package dev.aegis.core;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * Named locks of each tenant, held by tasks. Per lock: a FIFO queue (first come, first served; a shared request
 * never overtakes an exclusive one queued before it), shared or exclusive holds, leases that end unless renewed,
 * and a fencing token with every grant. Waits end by grant, timeout, or a {@code deadlock} refusal when the new
 * wait would close a cycle in the wait-for graph (the youngest waiter, the one asking, is refused).
 *
 * <p>Implementations audit every wait, grant, release, expiry, timeout and deadlock. They decide nothing about
 * who may take which name: callers check {@link Policy#lock(String)} first. The port is written in terms that a
 * shared store can also provide (a key per lock whose revision is the token, leases as key TTLs), so the default
 * in-process table can be replaced by one over NATS KV in cluster mode without changing callers.
 */
public interface Locks extends AutoCloseable {
    enum Mode {
        SHARED, EXCLUSIVE;

        public String wire() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        public static Mode fromWire(String s) {
            return switch (s) {
                case "shared" -> SHARED;
                case "exclusive" -> EXCLUSIVE;
                default -> throw AegisException.invalid("mode", "\"" + s + "\" is not a lock mode; use exclusive or shared");
            };
        }
    }

    /** Who holds or waits: one task. A task holds a name at most once. */
    record Holder(String tenant, String taskId, String agent) {
        public Holder {
            Objects.requireNonNull(tenant, "tenant");
            Objects.requireNonNull(taskId, "taskId");
            Objects.requireNonNull(agent, "agent");
            if (taskId.isEmpty()) throw new IllegalArgumentException("a lock holder is a task: taskId must not be empty");
        }

        /** How audit records and deadlock reports name it. */
        public String label() {
            return "task " + taskId + " (agent " + agent + ")";
        }
    }

    /**
     * @param ttl     how long the grant lasts without a renewal
     * @param timeout how long to wait in the queue; zero means try once
     */
    record Request(Holder holder, String name, Mode mode, Duration ttl, Duration timeout) {
        public Request {
            Objects.requireNonNull(holder, "holder");
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(mode, "mode");
            if (ttl.isNegative() || ttl.isZero()) throw AegisException.invalid("ttl_ms", "must be above zero");
            if (timeout.isNegative()) throw AegisException.invalid("timeout_ms", "must not be negative");
        }
    }

    /**
     * A grant. {@code token} is strictly greater than every token granted before it for the same lock, also
     * across restarts of the service, so a resource that remembers the highest token it saw can refuse a holder
     * whose lease has run out (fencing).
     */
    record Lease(Holder holder, String name, Mode mode, long token, Instant expiresAt, Duration ttl) {}

    /** How an {@link #acquire} ended. */
    sealed interface Acquired {
        record Granted(Lease lease) implements Acquired {}

        /** Still queued when the timeout ran out; the request left the queue. */
        record TimedOut(Duration waited, String heldBy) implements Acquired {}

        /** Waiting would close this cycle; each step reads "X waits for lock L held by Y". */
        record Deadlock(List<String> cycle) implements Acquired {}
    }

    /** Takes the lock, waiting in its queue up to the request's timeout. Blocks the calling thread. */
    Acquired acquire(Request request);

    /**
     * Extends a lease by its ttl (or by {@code ttl} when given) from now.
     *
     * @throws AegisException {@code lease_expired} when the lease with {@code token} is no longer held
     */
    Lease renew(Holder holder, String name, long token, java.util.Optional<Duration> ttl);

    /** Ends a hold; the next in the queue gets the lock. False when this hold had already ended (expired). */
    boolean release(Holder holder, String name, long token);

    /**
     * Ends every hold and wait of a task (it ended, failed or was killed); returns how many holds ended. Waiting
     * calls of that task return {@link Acquired.TimedOut}.
     */
    int releaseAll(String tenant, String taskId, String why);

    /** Every hold of {@code tenant} now, for operators. */
    List<Lease> held(String tenant);

    @Override
    void close();
}
