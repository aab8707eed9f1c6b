package dev.aegis.bench;

import dev.aegis.audit.FileAuditLog;
import dev.aegis.core.AuditLog;
import dev.aegis.core.Bus;
import dev.aegis.core.Locks;
import dev.aegis.swarm.LocalBus;
import dev.aegis.swarm.LocalLocks;
import dev.aegis.swarm.NatsBus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Swarm coordination: the lock service and the bus, each beside a plain JDK baseline in the same run.
 * <ul>
 *   <li>uncontended acquire+release pairs/s and p99, one thread, vs {@link ReentrantLock};</li>
 *   <li>contended FIFO hand-off (release -> the next holder runs), vs a fair {@link ReentrantLock};</li>
 *   <li>the same with every grant and release in the durable audit log (fsync group commit), as the server runs;</li>
 *   <li>bus publish -> deliver of 1 KiB messages: msgs/s, and latency with one message in flight, in-process and
 *       on NATS, vs {@link LinkedBlockingQueue}.</li>
 * </ul>
 * Usage: SwarmBench [pairs] [messages] [nats-url]   (defaults 1000000, 200000, nats://127.0.0.1:4222)
 */
public final class SwarmBench {
    private static final Locks.Holder ME = new Locks.Holder("bench", "t-0", "bench");
    private static final Duration TTL = Duration.ofMinutes(5);

    public static void main(String[] args) throws Exception {
        int pairs = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int messages = args.length > 1 ? Integer.parseInt(args[1]) : 200_000;
        String nats = args.length > 2 ? args[2] : "nats://127.0.0.1:4222";
        System.out.printf("swarm bench: %,d lock pairs, %,d bus messages of 1 KiB, %d cores%n", pairs, messages,
                Runtime.getRuntime().availableProcessors());

        // Locks with the audit kept in memory: the cost of the lock table itself.
        try (LocalLocks locks = new LocalLocks(new MemoryAudit())) {
            uncontendedLocks(locks, pairs / 10); // warm-up
            uncontendedJdk(pairs / 10);
            double[] ours = uncontendedLocks(locks, pairs), jdk = uncontendedJdk(pairs);
            row("uncontended pairs/s, lock service", ours[0], "p99 %.2f µs", ours[1]);
            row("uncontended pairs/s, ReentrantLock", jdk[0], "p99 %.2f µs", jdk[1]);
            System.out.printf("%-44s %12.3f x   (target >= 100,000 pairs/s)%n", "ratio lock service / ReentrantLock", ours[0] / jdk[0]);
            handOffLocks(locks, 4, 5_000);
            Stats h = handOffLocks(locks, 4, 20_000), hj = handOffJdk(4, 20_000);
            System.out.println(h.row("hand-off, lock service (4 threads)"));
            System.out.println(hj.row("hand-off, fair ReentrantLock (4 threads)"));
            System.out.printf("%-44s %12.2f x   (p99; target < 1 ms)%n", "ratio lock service / ReentrantLock", h.p99() / hj.p99());
        }
        // As the server runs it: every grant and release durable in the hash-chained log before it returns.
        Path tmp = Files.createTempDirectory("aegis-bench-swarm");
        try (FileAuditLog audit = FileAuditLog.open(tmp.resolve("audit")); LocalLocks locks = new LocalLocks(audit)) {
            double single = uncontendedLocks(locks, 2_000)[0];
            double many = manyHolders(locks, 64, 40_000);
            row("durable audit: pairs/s, 1 holder", single, "", 0);
            row("durable audit: pairs/s, 64 holders", many, "(group commit)", 0);
            System.out.println(handOffLocks(locks, 4, 2_000).row("durable audit: hand-off (4 threads)"));
        }

        byte[] kib = new byte[1024];
        double q = queueThroughput(messages, kib);
        Stats ql = oneInFlight(10_000, kib, queuePing());
        row("1 KiB msgs/s, LinkedBlockingQueue", q, "", 0);
        System.out.println(ql.row("publish->deliver, LinkedBlockingQueue"));
        try (Bus local = new LocalBus()) {
            busThroughput(local, messages / 10, kib); // warm-up
            double[] b = busThroughput(local, messages, kib);
            Stats l = oneInFlight(20_000, kib, busPing(local));
            row("1 KiB msgs/s, in-process bus", b[0], "(dropped %,.0f)", b[1]);
            System.out.println(l.row("publish->deliver, in-process bus"));
            System.out.printf("%-44s %12.3f x   (target >= 200,000 msgs/s)%n", "ratio in-process / queue", b[0] / q);
        }
        try (Bus n = NatsBus.connect(NatsBus.Config.defaults(nats))) {
            busThroughput(n, messages / 10, kib);
            double[] b = busThroughput(n, messages, kib);
            Stats l = oneInFlight(10_000, kib, busPing(n));
            row("1 KiB msgs/s, NATS bus", b[0], "(dropped %,.0f)", b[1]);
            System.out.println(l.row("publish->deliver, NATS bus"));
            System.out.printf("%-44s %12.3f x%n", "ratio NATS / queue", b[0] / q);
        } catch (RuntimeException e) {
            System.out.println("NATS bus: skipped, " + e.getMessage());
        }
    }

    private static void row(String name, double perSecond, String extra, double value) {
        System.out.printf("%-44s %,12.0f /s  " + extra + "%n", name, perSecond, value);
    }

    /** {pairs/s, p99 µs} of acquire+release on one lock from one thread; every 100th pair is timed alone. */
    private static double[] uncontendedLocks(LocalLocks locks, int n) {
        Locks.Request r = new Locks.Request(ME, "hot", Locks.Mode.EXCLUSIVE, TTL, Duration.ZERO);
        double[] sample = new double[n / 100];
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long s = System.nanoTime();
            Locks.Lease l = ((Locks.Acquired.Granted) locks.acquire(r)).lease();
            locks.release(ME, "hot", l.token());
            if (i % 100 == 0 && i / 100 < sample.length) sample[i / 100] = (System.nanoTime() - s) / 1e3;
        }
        return new double[] {n / ((System.nanoTime() - t0) / 1e9), Stats.of(sample).p99()};
    }

    private static double[] uncontendedJdk(int n) {
        ReentrantLock lock = new ReentrantLock();
        double[] sample = new double[n / 100];
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            long s = System.nanoTime();
            lock.lock();
            lock.unlock();
            if (i % 100 == 0 && i / 100 < sample.length) sample[i / 100] = (System.nanoTime() - s) / 1e3;
        }
        return new double[] {n / ((System.nanoTime() - t0) / 1e9), Stats.of(sample).p99()};
    }

    /** Pairs/s from {@code holders} threads, each on its own lock (as many agents on many resources). */
    private static double manyHolders(LocalLocks locks, int holders, int total) throws InterruptedException {
        List<Thread> threads = new ArrayList<>();
        long t0 = System.nanoTime();
        for (int h = 0; h < holders; h++) {
            Locks.Holder who = new Locks.Holder("bench", "t-" + h, "bench");
            Locks.Request r = new Locks.Request(who, "res-" + h, Locks.Mode.EXCLUSIVE, TTL, Duration.ZERO);
            threads.add(Thread.ofVirtual().start(() -> {
                for (int i = 0; i < total / holders; i++) {
                    Locks.Lease l = ((Locks.Acquired.Granted) locks.acquire(r)).lease();
                    locks.release(who, r.name(), l.token());
                }
            }));
        }
        for (Thread t : threads) t.join();
        return total / ((System.nanoTime() - t0) / 1e9);
    }

    /**
     * {@code threads} contend for one lock; each holder notes when it releases, and the next holder measures from
     * there to its own acquire's return: the FIFO hand-off, wake-up included.
     */
    private static Stats handOffLocks(LocalLocks locks, int threads, int rounds) throws InterruptedException {
        return handOff(threads, rounds, (who, body) -> {
            Locks.Holder h = new Locks.Holder("bench", "h-" + who, "bench");
            Locks.Lease l = ((Locks.Acquired.Granted) locks.acquire(new Locks.Request(h, "contended", Locks.Mode.EXCLUSIVE,
                    TTL, Duration.ofMinutes(1)))).lease();
            body.run();
            locks.release(h, "contended", l.token());
        });
    }

    private static Stats handOffJdk(int threads, int rounds) throws InterruptedException {
        ReentrantLock lock = new ReentrantLock(true);
        return handOff(threads, rounds, (who, body) -> {
            lock.lock();
            try {
                body.run();
            } finally {
                lock.unlock();
            }
        });
    }

    interface Guarded {
        void run(int who, Runnable body);
    }

    private static Stats handOff(int threads, int rounds, Guarded guarded) throws InterruptedException {
        long[] released = {0};
        int[] last = {-1};
        double[] samples = new double[rounds];
        int[] n = {0};
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int who = t;
            all.add(Thread.ofPlatform().start(() -> {
                while (true) {
                    boolean[] done = {false};
                    guarded.run(who, () -> {
                        long now = System.nanoTime();
                        if (n[0] >= rounds) {
                            done[0] = true;
                            return;
                        }
                        if (last[0] >= 0 && last[0] != who) samples[n[0]++] = (now - released[0]) / 1e6;
                        last[0] = who;
                        released[0] = System.nanoTime();
                    });
                    if (done[0]) return;
                }
            }));
        }
        for (Thread t : all) t.join();
        return Stats.of(java.util.Arrays.copyOf(samples, n[0]));
    }

    /** Msgs/s through a LinkedBlockingQueue, one producer and one consumer. */
    private static double queueThroughput(int messages, byte[] payload) throws InterruptedException {
        LinkedBlockingQueue<byte[]> q = new LinkedBlockingQueue<>(16_384);
        Thread consumer = Thread.ofPlatform().start(() -> {
            try {
                for (int i = 0; i < messages; i++) q.take();
            } catch (InterruptedException ignored) {
                // bench over
            }
        });
        long t0 = System.nanoTime();
        for (int i = 0; i < messages; i++) q.put(payload.clone());
        consumer.join();
        return messages / ((System.nanoTime() - t0) / 1e9);
    }

    /** Sends one message and returns once it arrived. */
    interface Ping extends AutoCloseable {
        void send(byte[] payload) throws Exception;

        @Override
        void close();
    }

    /** Publish->deliver latency with one message in flight at a time: delivery cost, not queueing. */
    private static Stats oneInFlight(int n, byte[] payload, Ping ping) throws Exception {
        double[] lat = new double[n];
        try (ping) {
            for (int i = 0; i < n / 10; i++) ping.send(payload);
            for (int i = 0; i < n; i++) {
                long t0 = System.nanoTime();
                ping.send(payload);
                lat[i] = (System.nanoTime() - t0) / 1e6;
            }
        }
        return Stats.of(lat);
    }

    private static Ping queuePing() {
        LinkedBlockingQueue<byte[]> q = new LinkedBlockingQueue<>();
        LinkedBlockingQueue<byte[]> back = new LinkedBlockingQueue<>();
        Thread echo = Thread.ofPlatform().start(() -> {
            try {
                while (true) back.put(q.take());
            } catch (InterruptedException ignored) {
                // bench over
            }
        });
        return new Ping() {
            public void send(byte[] p) throws Exception {
                q.put(p.clone());
                back.take();
            }

            public void close() {
                echo.interrupt();
            }
        };
    }

    /** One publish, waited for by a subscriber on another thread (as a consumer would), handed back through a queue. */
    private static Ping busPing(Bus bus) throws InterruptedException {
        String tenant = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        Bus.Subscription sub = bus.subscribe(tenant, "ping", 16);
        settle(bus, tenant, sub, "ping");
        LinkedBlockingQueue<Bus.Delivery> back = new LinkedBlockingQueue<>();
        Thread reader = Thread.ofPlatform().start(() -> {
            try {
                while (true) sub.next(Duration.ofSeconds(10)).ifPresent(back::add);
            } catch (InterruptedException ignored) {
                // bench over
            }
        });
        return new Ping() {
            public void send(byte[] p) throws Exception {
                bus.publish(tenant, "ping", p.clone(), Optional.empty());
                back.take();
            }

            public void close() {
                reader.interrupt();
                sub.close();
            }
        };
    }

    /**
     * {msgs/s, dropped} on {@code bus}: one publisher, one subscriber. The publisher never runs more than half the
     * subscriber's buffer ahead, so this measures delivery, not a buffer filling up.
     */
    private static double[] busThroughput(Bus bus, int messages, byte[] payload) throws Exception {
        String tenant = "bench-" + UUID.randomUUID().toString().substring(0, 8);
        int buffer = 16_384;
        AtomicInteger got = new AtomicInteger();
        AtomicLong dropped = new AtomicLong();
        try (Bus.Subscription sub = bus.subscribe(tenant, "bench.>", buffer)) {
            settle(bus, tenant, sub, "bench.settle");
            Thread consumer = Thread.ofPlatform().start(() -> {
                try {
                    while (got.get() + dropped.get() < messages) {
                        Optional<Bus.Delivery> d = sub.next(Duration.ofSeconds(5));
                        if (d.isEmpty()) return;
                        switch (d.get()) {
                            case Bus.Message m -> got.incrementAndGet();
                            case Bus.Overflow o -> dropped.addAndGet(o.dropped());
                        }
                    }
                } catch (InterruptedException ignored) {
                    // bench over
                }
            });
            long t0 = System.nanoTime();
            for (int i = 0; i < messages; i++) {
                while (i - got.get() - dropped.get() > buffer / 2) Thread.onSpinWait();
                bus.publish(tenant, "bench.x", payload.clone(), Optional.empty());
            }
            consumer.join();
            return new double[] {got.get() / ((System.nanoTime() - t0) / 1e9), dropped.get()};
        }
    }

    /** Waits until the subscription sees messages (on NATS the server learns of it asynchronously). */
    private static void settle(Bus bus, String tenant, Bus.Subscription sub, String subject) throws InterruptedException {
        for (int i = 0; i < 100; i++) {
            bus.publish(tenant, subject, new byte[0], Optional.empty());
            if (sub.next(Duration.ofMillis(50)).isPresent()) break;
        }
        while (sub.next(Duration.ofMillis(100)).isPresent()) {
            // drain the pings
        }
    }

    /** The audit port kept in memory, to measure the lock table apart from the log's fsync. Not for production. */
    private static final class MemoryAudit implements AuditLog {
        private long seq;

        @Override
        public synchronized dev.aegis.core.AuditRecord append(dev.aegis.core.AuditEvent event) {
            return new dev.aegis.core.AuditRecord(++seq, java.time.Instant.EPOCH, event, "", "");
        }

        @Override
        public List<dev.aegis.core.AuditRecord> query(dev.aegis.core.AuditQuery query) {
            return List.of();
        }

        @Override
        public Subscription tail(long afterSeq, java.util.function.Consumer<dev.aegis.core.AuditRecord> listener) {
            throw new UnsupportedOperationException();
        }

        @Override
        public long lastSeq() {
            return seq;
        }

        @Override
        public dev.aegis.core.AuditVerification verify(long fromSeq, String publicKey, Progress progress) {
            throw new UnsupportedOperationException();
        }

        @Override
        public dev.aegis.core.AuditVerification verifyTail() {
            throw new UnsupportedOperationException();
        }

        @Override
        public String publicKey() {
            return "";
        }

        @Override
        public dev.aegis.core.AuditProof proof(long seq) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void export(long fromSeq, java.io.OutputStream out) {
            throw new UnsupportedOperationException();
        }

        @Override
        public void close() {}
    }
}
