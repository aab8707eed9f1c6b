package dev.aegis.core;

import java.util.Comparator;
import java.util.HashMap;
import java.util.Map;
import java.util.TreeSet;

/**
 * The queue in front of the runtimes. Bounded (a full queue refuses, it never grows), fair between tenants (each
 * dispatch serves the waiting tenant that was served longest ago, so one tenant's burst cannot starve another),
 * ordered by priority then arrival within a tenant, and limited per agent and globally. No I/O: jobs start themselves.
 */
public final class Scheduler {
    /** A queued unit of work; {@link #start()} must not block (it hands off to its own thread). */
    public interface Job {
        String tenant();

        /** Jobs of the same agent share {@link #agentLimit()} running slots. */
        String agentKey();

        int agentLimit();

        /** Higher runs first within a tenant. */
        int priority();

        void start();
    }

    private record Queued(Job job, long seq) {}

    private static final Comparator<Queued> ORDER =
            Comparator.comparingInt((Queued q) -> -q.job().priority()).thenComparingLong(Queued::seq);

    private final int maxRunning;
    private final int maxQueued;
    private final int maxQueuedPerTenant;
    private final Map<String, TreeSet<Queued>> byTenant = new HashMap<>();
    /** When each tenant last had a job started (a dispatch counter); one entry per tenant ever seen. */
    private final Map<String, Long> lastServed = new HashMap<>();
    private long dispatches;
    private final Map<String, Integer> runningPerAgent = new HashMap<>();
    private int running;
    private int queued;
    private long seq;

    public Scheduler(int maxRunning, int maxQueued, int maxQueuedPerTenant) {
        this.maxRunning = maxRunning;
        this.maxQueued = maxQueued;
        this.maxQueuedPerTenant = maxQueuedPerTenant;
    }

    /** Queues {@code job}, or refuses: 503-style {@code overloaded} when full, 429-style {@code rate_limited} per tenant. */
    public void enqueue(Job job) {
        synchronized (this) {
            if (queued >= maxQueued)
                throw new AegisException("overloaded", "the task queue is full (" + maxQueued + " tasks); retry later");
            TreeSet<Queued> mine = byTenant.computeIfAbsent(job.tenant(), t -> new TreeSet<>(ORDER));
            if (mine.size() >= maxQueuedPerTenant)
                throw new AegisException("rate_limited", "tenant " + job.tenant() + " already has " + maxQueuedPerTenant
                        + " queued tasks; wait for some to finish");
            mine.add(new Queued(job, seq++));
            queued++;
        }
        dispatch();
    }

    /** Takes a job out of the queue; false if it was not queued (already started or never queued). */
    public synchronized boolean remove(Job job) {
        TreeSet<Queued> mine = byTenant.get(job.tenant());
        if (mine == null || !mine.removeIf(q -> q.job() == job)) return false;
        queued--;
        if (mine.isEmpty()) byTenant.remove(job.tenant());
        return true;
    }

    /** A started job ended: frees its slots and starts whatever may run now. */
    public void finished(Job job) {
        synchronized (this) {
            running--;
            runningPerAgent.merge(job.agentKey(), -1, (a, b) -> a + b == 0 ? null : a + b);
        }
        dispatch();
    }

    public synchronized int queued() {
        return queued;
    }

    public synchronized int running() {
        return running;
    }

    private void dispatch() {
        while (true) {
            Job next;
            synchronized (this) {
                next = pick();
                if (next == null) return;
            }
            next.start();
        }
    }

    /** The next runnable job, from the least recently served tenant that has one; null when nothing may start now. */
    private Job pick() {
        if (running >= maxRunning) return null;
        Job best = null;
        long bestServed = Long.MAX_VALUE;
        for (Map.Entry<String, TreeSet<Queued>> e : byTenant.entrySet()) {
            long served = lastServed.getOrDefault(e.getKey(), -1L);
            if (served >= bestServed) continue;
            for (Queued q : e.getValue())
                if (runningPerAgent.getOrDefault(q.job().agentKey(), 0) < q.job().agentLimit()) {
                    best = q.job();
                    bestServed = served;
                    break;
                }
        }
        if (best == null) return null;
        Job job = best;
        TreeSet<Queued> mine = byTenant.get(job.tenant());
        mine.removeIf(q -> q.job() == job);
        if (mine.isEmpty()) byTenant.remove(job.tenant());
        queued--;
        running++;
        runningPerAgent.merge(job.agentKey(), 1, Integer::sum);
        lastServed.put(job.tenant(), dispatches++);
        return job;
    }
}
