package dev.aegis.swarm;

import dev.aegis.core.AegisException;
import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditLog;
import dev.aegis.core.Locks;
import dev.aegis.core.Orchestrator;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link Locks} in this process: one {@link LockTable} behind one monitor, so the wait-for graph is always seen
 * whole. Nothing slow happens under the monitor: audit records are appended after it is left, each by the thread
 * whose call they describe (a waiter audits its own grant when it wakes), and an expiry by the sweeper.
 *
 * <p>Leases are measured on the injected clock; waits in the queue on real time (they block a thread). A
 * sweeper thread ends expired leases every {@code sweepEvery}; every call also sweeps first, so a test that
 * moves the clock sees expiry at its next call or at {@link #sweep()}.
 */
public final class LocalLocks implements Locks {
    /** A holder may hold or wait for this many locks at once; more is a bug in the agent or an attack. */
    public static final int MAX_PER_TASK = 64;

    private final AuditLog audit;
    private final Clock clock;
    private final LockTable table;
    private final Thread sweeper;
    private volatile boolean closed;

    public LocalLocks(AuditLog audit, Clock clock, Duration sweepEvery) {
        this.audit = audit;
        this.clock = clock;
        this.table = new LockTable(MAX_PER_TASK);
        this.sweeper = Thread.ofVirtual().name("locks-sweeper").start(() -> {
            while (!closed) {
                try {
                    Thread.sleep(sweepEvery);
                    sweep();
                } catch (InterruptedException e) {
                    return;
                } catch (RuntimeException e) {
                    // an audit append failed: the log refuses until reopened; keep the table consistent and retry
                }
            }
        });
    }

    public LocalLocks(AuditLog audit) {
        this(audit, Clock.systemUTC(), Duration.ofMillis(50));
    }

    /** Ends every lease whose time is up and hands each lock on; returns how many ended. */
    public int sweep() {
        List<LockTable.Hold> expired;
        synchronized (table) {
            expired = table.expire(clock.instant());
        }
        for (LockTable.Hold h : expired)
            audit.append(event(h.holder(), "system", "lock.expire", h.key().name(), Map.of("mode", h.mode().wire(),
                    "token", Long.toString(h.token()), "ttl_ms", Long.toString(h.ttl().toMillis()))));
        return expired.size();
    }

    @Override
    public Acquired acquire(Request r) {
        sweep();
        LockTable.Attempt attempt;
        synchronized (table) {
            attempt = table.attempt(r, clock.instant());
        }
        String actor = actor();
        return switch (attempt) {
            case LockTable.Queued(LockTable.Waiter waiter, String heldBy) -> await(r, waiter, actor, heldBy);
            case LockTable.Decided(Acquired.Granted g) -> {
                audit.append(granted(g.lease(), actor, Duration.ZERO));
                yield g;
            }
            case LockTable.Decided(Acquired.Deadlock d) -> {
                audit.append(event(r.holder(), actor, "lock.deadlock", r.name(), Map.of("mode", r.mode().wire(),
                        "cycle", String.join("; ", d.cycle()))));
                yield d;
            }
            case LockTable.Decided(Acquired.TimedOut t) -> {
                audit.append(event(r.holder(), actor, "lock.timeout", r.name(), Map.of("mode", r.mode().wire(),
                        "waited_ms", "0", "held_by", t.heldBy())));
                yield t;
            }
        };
    }

    private Acquired await(Request r, LockTable.Waiter waiter, String actor, String heldBy) {
        long t0 = System.nanoTime();
        LockTable.Hold hold = null;
        try {
            audit.append(event(r.holder(), actor, "lock.wait", r.name(), Map.of("mode", r.mode().wire(),
                    "ahead", Integer.toString(waiter.ahead()), "held_by", heldBy,
                    "timeout_ms", Long.toString(r.timeout().toMillis()))));
            hold = waiter.granted().get(r.timeout().toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
            // leave the queue below, unless the grant raced the timeout
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        } finally {
            if (hold == null) {
                synchronized (table) {
                    hold = table.leave(waiter, clock.instant());
                }
            }
        }
        Duration waited = Duration.ofNanos(System.nanoTime() - t0);
        if (hold != null) {
            Lease lease = hold.lease();
            try {
                audit.append(granted(lease, actor, waited));
            } catch (RuntimeException e) {
                release(r.holder(), r.name(), lease.token()); // an unaudited grant must not stand
                throw e;
            }
            return new Acquired.Granted(lease);
        }
        String endedBy = waiter.cancelled().orElse("timeout");
        audit.append(event(r.holder(), actor, "lock.timeout", r.name(), Map.of("mode", r.mode().wire(),
                "waited_ms", Long.toString(waited.toMillis()), "held_by", heldBy, "ended_by", endedBy)));
        return new Acquired.TimedOut(waited, heldBy);
    }

    @Override
    public Lease renew(Holder holder, String name, long token, Optional<Duration> ttl) {
        sweep();
        Lease lease;
        synchronized (table) {
            lease = table.renew(holder, name, token, ttl, clock.instant());
        }
        if (lease == null)
            throw new AegisException("lease_expired", "lock \"" + name + "\": the lease with token " + token
                    + " is no longer held (it expired or was released); acquire the lock again");
        audit.append(event(holder, actor(), "lock.renew", name, Map.of("token", Long.toString(token),
                "expires_at", lease.expiresAt().toString())));
        return lease;
    }

    @Override
    public boolean release(Holder holder, String name, long token) {
        sweep();
        LockTable.Hold ended;
        synchronized (table) {
            ended = table.release(holder, name, token, clock.instant());
        }
        if (ended == null) return false;
        audit.append(event(holder, actor(), "lock.release", name, Map.of("mode", ended.mode().wire(),
                "token", Long.toString(token))));
        return true;
    }

    @Override
    public int releaseAll(String tenant, String taskId, String why) {
        List<LockTable.Hold> ended;
        synchronized (table) {
            ended = table.releaseAll(tenant, taskId, why, clock.instant());
        }
        for (LockTable.Hold h : ended)
            audit.append(event(h.holder(), "system", "lock.release", h.key().name(), Map.of("mode", h.mode().wire(),
                    "token", Long.toString(h.token()), "reason", why)));
        return ended.size();
    }

    @Override
    public List<Lease> held(String tenant) {
        synchronized (table) {
            return table.held(tenant);
        }
    }

    /** Locks with a holder or a queue now, across tenants; idle ones are forgotten (tokens never repeat anyway). */
    public int liveLocks() {
        synchronized (table) {
            return table.size();
        }
    }

    @Override
    public void close() {
        closed = true;
        sweeper.interrupt();
    }

    private static String actor() {
        return Orchestrator.ACTOR.orElse("system");
    }

    private AuditEvent granted(Lease l, String actor, Duration waited) {
        return event(l.holder(), actor, "lock.grant", l.name(), Map.of("mode", l.mode().wire(), "token",
                Long.toString(l.token()), "ttl_ms", Long.toString(l.ttl().toMillis()), "waited_ms",
                Long.toString(waited.toMillis())));
    }

    private static AuditEvent event(Holder h, String actor, String action, String name, Map<String, String> details) {
        return AuditEvent.of(h.tenant(), actor, action, "lock:" + name, details).withAgent(h.agent()).withTask(h.taskId());
    }
}
