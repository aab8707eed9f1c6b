package dev.aegis.swarm;

import dev.aegis.core.AegisException;
import dev.aegis.core.Locks.Acquired;
import dev.aegis.core.Locks.Holder;
import dev.aegis.core.Locks.Lease;
import dev.aegis.core.Locks.Mode;
import dev.aegis.core.Locks.Request;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * The state of every lock: holders, FIFO queues, leases by expiry, and the wait-for graph they imply. Not
 * thread-safe and does no I/O: {@link LocalLocks} calls it under one monitor and audits what it returns.
 */
final class LockTable {
    record Key(String tenant, String name) {}

    record Owner(String tenant, String taskId) {
        static Owner of(Holder h) {
            return new Owner(h.tenant(), h.taskId());
        }
    }

    /** A grant; {@code expiresAt} and {@code ttl} move on renewal, so it is re-sorted in {@link #byExpiry}. */
    static final class Hold {
        final Key key;
        final Holder holder;
        final Mode mode;
        final long token;
        Instant expiresAt;
        Duration ttl;

        Hold(Key key, Holder holder, Mode mode, long token, Instant expiresAt, Duration ttl) {
            this.key = key;
            this.holder = holder;
            this.mode = mode;
            this.token = token;
            this.expiresAt = expiresAt;
            this.ttl = ttl;
        }

        Key key() {
            return key;
        }

        Holder holder() {
            return holder;
        }

        Mode mode() {
            return mode;
        }

        long token() {
            return token;
        }

        Duration ttl() {
            return ttl;
        }

        Lease lease() {
            return new Lease(holder, key.name(), mode, token, expiresAt, ttl);
        }
    }

    /** A queued request; completed with its hold when granted, or with null when its task ended. */
    record Waiter(Request request, Key key, Owner owner, int ahead, CompletableFuture<Hold> granted, String[] endedBy) {
        Optional<String> cancelled() {
            return Optional.ofNullable(endedBy[0]);
        }
    }

    sealed interface Attempt {}

    record Decided(Acquired outcome) implements Attempt {}

    record Queued(Waiter waiter, String heldBy) implements Attempt {}

    private static final class Entry {
        final Map<Owner, Hold> holders = new LinkedHashMap<>();
        final ArrayDeque<Waiter> queue = new ArrayDeque<>();
    }

    private static final class Task {
        final Holder holder;
        final Map<Key, Hold> holds = new HashMap<>();
        final List<Waiter> waits = new ArrayList<>(1);

        Task(Holder holder) {
            this.holder = holder;
        }
    }

    private final int maxPerTask;
    private final Map<Key, Entry> locks = new HashMap<>();
    private final Map<Owner, Task> tasks = new HashMap<>();
    private final TreeSet<Hold> byExpiry =
            new TreeSet<>(Comparator.comparing((Hold h) -> h.expiresAt).thenComparingLong(h -> h.token));
    private long lastToken;

    LockTable(int maxPerTask) {
        this.maxPerTask = maxPerTask;
    }

    Attempt attempt(Request r, Instant now) {
        Key key = new Key(r.holder().tenant(), r.name());
        Owner owner = Owner.of(r.holder());
        Task task = tasks.get(owner);
        if (task != null) {
            Hold mine = task.holds.get(key);
            if (mine != null)
                throw AegisException.conflict("lock \"" + r.name() + "\" is already held by this task (" + mine.mode.wire()
                        + ", token " + mine.token + "); release it before acquiring it again");
            for (Waiter w : task.waits)
                if (w.key().equals(key))
                    throw AegisException.conflict("this task is already waiting for lock \"" + r.name() + "\"");
            if (task.holds.size() + task.waits.size() >= maxPerTask)
                throw AegisException.conflict("a task may hold or wait for at most " + maxPerTask + " locks at once");
        }
        Entry e = locks.computeIfAbsent(key, k -> new Entry());
        if (e.queue.isEmpty() && compatible(e, r.mode())) return new Decided(new Acquired.Granted(grant(key, e, r, now).lease()));
        String heldBy = heldBy(e);
        if (r.timeout().isZero()) {
            forgetIfIdle(key, e);
            return new Decided(new Acquired.TimedOut(Duration.ZERO, heldBy));
        }
        List<String> cycle = cycle(owner, r.holder(), key, e, r.mode());
        if (!cycle.isEmpty()) {
            forgetIfIdle(key, e);
            return new Decided(new Acquired.Deadlock(cycle));
        }
        Waiter w = new Waiter(r, key, owner, e.queue.size(), new CompletableFuture<>(), new String[1]);
        e.queue.add(w);
        tasks.computeIfAbsent(owner, o -> new Task(r.holder())).waits.add(w);
        return new Queued(w, heldBy);
    }

    /** A waiter gives up (timeout): its grant if one raced in, else null after it left the queue. */
    Hold leave(Waiter w, Instant now) {
        if (w.granted().isDone()) return w.granted().getNow(null);
        Entry e = locks.get(w.key());
        e.queue.remove(w);
        dropWait(w);
        handOn(w.key(), e, now); // an exclusive request leaving may let shared ones behind it in
        return null;
    }

    Lease renew(Holder holder, String name, long token, Optional<Duration> ttl, Instant now) {
        Hold h = holdOf(holder, name, token);
        if (h == null) return null;
        byExpiry.remove(h);
        ttl.ifPresent(t -> h.ttl = t);
        h.expiresAt = now.plus(h.ttl);
        byExpiry.add(h);
        return h.lease();
    }

    Hold release(Holder holder, String name, long token, Instant now) {
        Hold h = holdOf(holder, name, token);
        if (h == null) return null;
        end(h);
        handOn(h.key, locks.get(h.key), now);
        return h;
    }

    /** Ends every lease that is due at {@code now}, oldest first, handing each lock on. */
    List<Hold> expire(Instant now) {
        List<Hold> expired = new ArrayList<>();
        while (!byExpiry.isEmpty() && !byExpiry.first().expiresAt.isAfter(now)) {
            Hold h = byExpiry.first();
            end(h);
            expired.add(h);
            handOn(h.key, locks.get(h.key), now);
        }
        return expired;
    }

    List<Hold> releaseAll(String tenant, String taskId, String why, Instant now) {
        Task task = tasks.get(new Owner(tenant, taskId));
        if (task == null) return List.of();
        List<Hold> ended = new ArrayList<>(task.holds.values());
        Set<Key> touched = new HashSet<>(task.holds.keySet());
        for (Waiter w : task.waits) touched.add(w.key());
        for (Hold h : ended) end(h);
        for (Waiter w : List.copyOf(task.waits)) {
            locks.get(w.key()).queue.remove(w);
            dropWait(w);
            w.endedBy()[0] = why;
            w.granted().complete(null);
        }
        for (Key k : touched) {
            Entry e = locks.get(k);
            if (e != null) handOn(k, e, now);
        }
        return ended;
    }

    List<Lease> held(String tenant) {
        List<Lease> out = new ArrayList<>();
        for (Map.Entry<Key, Entry> e : locks.entrySet())
            if (e.getKey().tenant().equals(tenant)) for (Hold h : e.getValue().holders.values()) out.add(h.lease());
        out.sort(Comparator.comparing(Lease::name).thenComparingLong(Lease::token));
        return out;
    }

    int size() {
        return locks.size();
    }

    /** Grants from the head of the queue while the head fits: FIFO, and shared requests enter together. */
    private void handOn(Key key, Entry e, Instant now) {
        while (!e.queue.isEmpty() && compatible(e, e.queue.peek().request().mode())) {
            Waiter w = e.queue.poll();
            dropWait(w);
            w.granted().complete(grant(key, e, w.request(), now));
        }
        forgetIfIdle(key, e);
    }

    private Hold grant(Key key, Entry e, Request r, Instant now) {
        // Above the last token and above the clock in microseconds: strictly increasing, also across a restart.
        long token = Math.max(lastToken + 1, ChronoUnit.MICROS.between(Instant.EPOCH, now));
        lastToken = token;
        Hold h = new Hold(key, r.holder(), r.mode(), token, now.plus(r.ttl()), r.ttl());
        Owner owner = Owner.of(r.holder());
        e.holders.put(owner, h);
        tasks.computeIfAbsent(owner, o -> new Task(r.holder())).holds.put(key, h);
        byExpiry.add(h);
        return h;
    }

    private void end(Hold h) {
        Owner owner = Owner.of(h.holder);
        locks.get(h.key).holders.remove(owner);
        byExpiry.remove(h);
        Task task = tasks.get(owner);
        task.holds.remove(h.key);
        if (task.holds.isEmpty() && task.waits.isEmpty()) tasks.remove(owner);
    }

    private void dropWait(Waiter w) {
        Task task = tasks.get(w.owner());
        if (task == null) return;
        task.waits.remove(w);
        if (task.holds.isEmpty() && task.waits.isEmpty()) tasks.remove(w.owner());
    }

    private Hold holdOf(Holder holder, String name, long token) {
        Entry e = locks.get(new Key(holder.tenant(), name));
        Hold h = e == null ? null : e.holders.get(Owner.of(holder));
        return h != null && h.token == token ? h : null;
    }

    private void forgetIfIdle(Key key, Entry e) {
        if (e.holders.isEmpty() && e.queue.isEmpty()) locks.remove(key);
    }

    private static boolean compatible(Entry e, Mode mode) {
        if (e.holders.isEmpty()) return true;
        if (mode != Mode.SHARED) return false;
        for (Hold h : e.holders.values()) if (h.mode != Mode.SHARED) return false;
        return true;
    }

    private static String heldBy(Entry e) {
        List<String> who = new ArrayList<>();
        for (Hold h : e.holders.values()) who.add(h.holder.label() + " " + h.mode.wire());
        if (who.size() > 3) who = List.of(who.get(0), who.get(1), "and " + (who.size() - 2) + " more");
        return who.isEmpty() ? "nobody (queued behind " + e.queue.size() + ")" : String.join(", ", who);
    }

    // ---- the wait-for graph: an owner waits for the holders it conflicts with and for everyone queued ahead of it

    private record Edge(Owner to, Holder toHolder, Key via, boolean queued) {}

    private static List<Edge> blockers(Entry e, Mode mode, Owner self, Waiter upTo) {
        List<Edge> out = new ArrayList<>();
        for (Map.Entry<Owner, Hold> h : e.holders.entrySet())
            if (!h.getKey().equals(self) && !(mode == Mode.SHARED && h.getValue().mode == Mode.SHARED))
                out.add(new Edge(h.getKey(), h.getValue().holder, h.getValue().key, false));
        for (Waiter w : e.queue) {
            if (w == upTo) break;
            if (!w.owner().equals(self)) out.add(new Edge(w.owner(), w.request().holder(), w.key(), true));
        }
        return out;
    }

    /**
     * The cycle that waiting for {@code key} would close, as readable steps starting at the asking task; empty
     * when there is none. Only a new wait adds edges (a grant moves a waiter's edges onto holders it was already
     * queued behind), so checking here finds every cycle, and the asker is always its youngest waiter.
     */
    private List<String> cycle(Owner start, Holder asker, Key key, Entry e, Mode mode) {
        List<String> path = new ArrayList<>();
        Set<Owner> seen = new HashSet<>();
        for (Edge edge : blockers(e, mode, start, null)) {
            path.add(step(asker, edge));
            if (reaches(edge.to(), start, path, seen)) return path;
            path.removeLast();
        }
        return List.of();
    }

    private boolean reaches(Owner from, Owner target, List<String> path, Set<Owner> seen) {
        if (from.equals(target)) return true;
        if (!seen.add(from)) return false;
        Task task = tasks.get(from);
        if (task == null) return false;
        for (Waiter w : task.waits) {
            Entry e = locks.get(w.key());
            for (Edge edge : blockers(e, w.request().mode(), from, w)) {
                path.add(step(task.holder, edge));
                if (reaches(edge.to(), target, path, seen)) return true;
                path.removeLast();
            }
        }
        return false;
    }

    private static String step(Holder from, Edge edge) {
        return from.label() + " waits for lock \"" + edge.via().name() + "\" " + (edge.queued() ? "queued behind " : "held by ")
                + edge.toHolder().label();
    }
}
