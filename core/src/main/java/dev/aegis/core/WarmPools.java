package dev.aegis.core;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Pre-booted sandboxes per agent ({@code pool.warm}): each is up with its agent process waiting for exactly one task.
 * A take hands an instance out at most once; the pool then refills in the background. A pool whose agent saw no
 * task for {@code idle} shrinks to zero until the next task. Warm plus running instances of an agent stay within
 * {@code pool.max}, and all warm instances together within a global cap.
 */
public final class WarmPools {
    /** A booted instance waiting in a pool, with the secret values and host folders it was booted with. */
    public record Warm(Agent agent, InstanceId id, String token, Instant bootedAt, InjectedSecrets secrets,
                       List<SandboxSpec.Mount> mounts) {}

    /** Boots one sandbox of {@code agent} up to WARM (may throw {@link RuntimeFailure}). */
    public interface Spawner {
        Warm spawn(Agent agent);
    }

    /** Terminates a warm instance that will never get a task. */
    public interface Killer {
        void kill(Warm warm);
    }

    private static final class Pool {
        final Deque<Warm> ready = new ArrayDeque<>();
        Agent agent;
        int spawning;
        int hot;
        Instant lastDemand;
        boolean dormant;
    }

    private final Spawner spawner;
    private final Killer killer;
    private final int globalCap;
    private final Duration idle;
    private final Clock clock;
    private final Map<String, Pool> pools = new HashMap<>();
    /** The deployed version (digest) of each tenant/name: pools of older versions are never made again. */
    private final Map<String, String> current = new HashMap<>();
    private boolean closed;

    public WarmPools(Spawner spawner, Killer killer, int globalCap, Duration idle, Clock clock) {
        this.spawner = spawner;
        this.killer = killer;
        this.globalCap = globalCap;
        this.idle = idle;
        this.clock = clock;
        Thread.ofVirtual().name("aegis-warm-reaper").start(this::reapLoop);
    }

    /** Pools are per deployed version: a redeploy gets a fresh pool. */
    static String key(Agent a) {
        return a.tenant() + "/" + a.name() + "@" + a.digest();
    }

    /** Starts keeping {@code agent}'s pool full, and retires the pool of any older version of it. */
    public void deployed(Agent agent) {
        List<Warm> retired = new ArrayList<>();
        synchronized (this) {
            current.put(agent.tenant() + "/" + agent.name(), agent.digest());
            pools.entrySet().removeIf(e -> {
                Agent other = e.getValue().agent;
                boolean old = other.tenant().equals(agent.tenant()) && other.name().equals(agent.name())
                        && !other.digest().equals(agent.digest());
                if (old) retired.addAll(e.getValue().ready);
                return old;
            });
        }
        retired.forEach(killer::kill);
        demand(agent);
    }

    /** A ready instance for {@code agent}, counted as running until {@link #released}; empty if none is ready. */
    public Optional<Warm> take(Agent agent) {
        Optional<Warm> got;
        synchronized (this) {
            Pool p = pool(agent);
            got = p == null ? Optional.empty() : Optional.ofNullable(p.ready.pollFirst());
        }
        demand(agent);
        return got;
    }

    /** A task of {@code agent} started on a cold instance or a taken one. */
    public synchronized void started(Agent agent) {
        Pool p = pool(agent);
        if (p != null) p.hot++;
    }

    /** A task of {@code agent} ended; its instance is gone. The end counts as use: the idle time starts now. */
    public void released(Agent agent) {
        synchronized (this) {
            Pool p = pool(agent);
            if (p != null) {
                p.hot = Math.max(0, p.hot - 1);
                p.lastDemand = clock.instant();
            }
        }
        refill(agent);
    }

    public synchronized int warmCount() {
        return pools.values().stream().mapToInt(p -> p.ready.size()).sum();
    }

    /** The warm instances of {@code tenant}'s agents, as they are now. */
    public synchronized List<Warm> warm(String tenant) {
        List<Warm> all = new ArrayList<>();
        for (Pool p : pools.values()) if (p.agent.tenant().equals(tenant)) all.addAll(p.ready);
        return all;
    }

    /** Takes one warm instance out of its pool (to be terminated); the pool refills. Empty if it is not warm here. */
    public Optional<Warm> remove(String tenant, InstanceId id) {
        Warm found = null;
        synchronized (this) {
            for (Pool p : pools.values())
                for (Warm w : p.ready)
                    if (w.id().equals(id) && w.agent().tenant().equals(tenant)) found = w;
            if (found != null) pools.get(key(found.agent())).ready.remove(found);
        }
        if (found != null) refill(found.agent());
        return Optional.ofNullable(found);
    }

    /**
     * Terminates the warm instances of agents matching {@code which} (their secrets changed) and refills their pools
     * with fresh ones.
     */
    public void retire(java.util.function.Predicate<Agent> which) {
        List<Warm> retired = new ArrayList<>();
        List<Agent> refill = new ArrayList<>();
        synchronized (this) {
            for (Pool p : pools.values())
                if (which.test(p.agent) && !p.ready.isEmpty()) {
                    retired.addAll(p.ready);
                    p.ready.clear();
                    refill.add(p.agent);
                }
        }
        retired.forEach(killer::kill);
        refill.forEach(this::refill);
    }

    /** Terminates every warm instance and stops refilling. */
    public void shutdown() {
        List<Warm> all = new ArrayList<>();
        synchronized (this) {
            closed = true;
            pools.values().forEach(p -> all.addAll(p.ready));
            pools.clear();
        }
        all.forEach(killer::kill);
    }

    private void demand(Agent agent) {
        synchronized (this) {
            Pool p = pool(agent);
            if (p == null) return;
            p.lastDemand = clock.instant();
            p.dormant = false;
        }
        refill(agent);
    }

    /** The agent's pool, made on first use; null for a version that a newer deploy retired. */
    private Pool pool(Agent agent) {
        String now = current.get(agent.tenant() + "/" + agent.name());
        if (now != null && !now.equals(agent.digest())) return null;
        Pool p = pools.computeIfAbsent(key(agent), k -> new Pool());
        p.agent = agent;
        if (p.lastDemand == null) p.lastDemand = clock.instant();
        return p;
    }

    /** Spawns in the background until the pool holds its target; each spawn is one virtual thread. */
    private void refill(Agent agent) {
        int toSpawn;
        synchronized (this) {
            Pool p = pool(agent);
            if (p == null) return;
            Manifest.Pool want = agent.manifest().pool();
            int total = pools.values().stream().mapToInt(q -> q.ready.size() + q.spawning).sum();
            int target = closed || p.dormant ? 0 : Math.min(want.warm(), want.max() - p.hot);
            toSpawn = Math.max(0, Math.min(target - p.ready.size() - p.spawning, globalCap - total));
            p.spawning += toSpawn;
        }
        for (int i = 0; i < toSpawn; i++) Thread.ofVirtual().name("aegis-warm-" + agent.name()).start(() -> spawnOne(agent));
    }

    private void spawnOne(Agent agent) {
        Warm w = null;
        try {
            w = spawner.spawn(agent);
        } catch (RuntimeException e) {
            // A pool that cannot boot stays short; tasks then start cold and report the runtime's error themselves.
        }
        boolean keep;
        synchronized (this) {
            Pool p = pools.get(key(agent));
            if (p != null) p.spawning--;
            keep = w != null && p != null && !closed && !p.dormant;
            if (keep) p.ready.addLast(w);
        }
        if (w != null && !keep) killer.kill(w);
    }

    private void reapLoop() {
        while (true) {
            try {
                Thread.sleep(Math.max(50, Math.min(1000, idle.toMillis() / 4)));
            } catch (InterruptedException e) {
                return;
            }
            List<Warm> idleOnes = new ArrayList<>();
            synchronized (this) {
                if (closed) return;
                Instant cutoff = clock.instant().minus(idle);
                for (Pool p : pools.values())
                    // A pool whose agent is running a task is in use, however long the task takes.
                    if (!p.dormant && p.hot == 0 && p.lastDemand.isBefore(cutoff)) {
                        p.dormant = true;
                        idleOnes.addAll(p.ready);
                        p.ready.clear();
                    }
            }
            idleOnes.forEach(killer::kill);
        }
    }
}
