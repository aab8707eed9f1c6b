package dev.aegis.bench;

import dev.aegis.audit.AuditOptions;
import dev.aegis.audit.FileAuditLog;
import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditVerification;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Audit log: durable appends/s from many concurrent writers, chained (FileAuditLog: SHA-256 chain, checkpoints,
 * fsync group commit) beside a plain unchained append of the same events with the same group commit and fsync;
 * then full verification speed (records/s) of the chained log. Usage: AuditBench [records] [writers].
 */
public final class AuditBench {
    public static void main(String[] args) throws Exception {
        int records = args.length > 0 ? Integer.parseInt(args[0]) : 1_000_000;
        int writers = args.length > 1 ? Integer.parseInt(args[1]) : 64;
        Path tmp = Files.createTempDirectory("aegis-bench-audit");
        List<AuditEvent> events = new ArrayList<>(records);
        for (int i = 0; i < records; i++) {
            events.add(AuditEvent.of("tenant-" + (i % 16), "agent:inst-" + (i % 977), "policy.egress",
                    "api.openai.com:443", Map.of("method", "CONNECT", "bytes", Integer.toString(i % 65536))).withTask("task-" + (i / 10)));
        }
        System.out.printf("audit bench: %,d records, %d concurrent writers, fsync group commit, data in %s%n", records, writers, tmp);
        // Warm up both paths so neither pays for JIT compilation in its measured run.
        run(writers, events.subList(0, Math.min(records, 50_000)), tmp.resolve("warm-plain"), false);
        run(writers, events.subList(0, Math.min(records, 50_000)), tmp.resolve("warm-chained"), true);
        try (FileAuditLog log = FileAuditLog.open(tmp.resolve("warm-chained"))) {
            log.verify(1, log.publicKey(), (seq, last) -> {}); // and verification, for the same reason
        }
        double plain = run(writers, events, tmp.resolve("plain"), false);
        double chained = run(writers, events, tmp.resolve("chained"), true);
        System.out.printf("%-44s %,12.0f appends/s%n", "plain append (no chain), fsync group commit", plain);
        System.out.printf("%-44s %,12.0f appends/s%n", "AEGIS chained append, fsync group commit", chained);
        System.out.printf("%-44s %12.2f x   (target >= 0.70; >= 50,000/s)%n", "ratio chained / plain", chained / plain);
        try (FileAuditLog log = FileAuditLog.open(tmp.resolve("chained"))) {
            long t0 = System.nanoTime();
            AuditVerification v = log.verify(1, log.publicKey(), (seq, last) -> {});
            double secs = (System.nanoTime() - t0) / 1e9;
            System.out.printf("%-44s %,12.0f records/s (%s, %.2f s; target >= 500,000/s)%n", "full verification",
                    log.lastSeq() / secs, v.intact() ? "intact" : v, secs);
        }
        deleteTree(tmp);
    }

    /** Appends every event from {@code writers} threads, each append waiting until durable; returns appends/s. */
    private static double run(int writers, List<AuditEvent> events, Path dir, boolean chained) throws Exception {
        AtomicInteger next = new AtomicInteger();
        try (FileAuditLog log = chained ? FileAuditLog.open(dir, AuditOptions.defaults()) : null;
             PlainLog plain = chained ? null : new PlainLog(dir)) {
            long t0 = System.nanoTime();
            List<Thread> threads = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                threads.add(Thread.ofPlatform().start(() -> {
                    for (int i; (i = next.getAndIncrement()) < events.size(); ) {
                        if (chained) log.append(events.get(i));
                        else plain.append(events.get(i));
                    }
                }));
            }
            for (Thread t : threads) t.join();
            return events.size() / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /** The baseline: the same JSON fields written with the same group commit and fdatasync, without hashes. */
    private static final class PlainLog implements AutoCloseable {
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition work = lock.newCondition();
        private List<Object[]> incoming = new ArrayList<>();
        private final FileChannel ch;
        private final Thread writer;
        private volatile boolean closing;
        private long seq;

        PlainLog(Path dir) throws IOException {
            Files.createDirectories(dir);
            ch = FileChannel.open(dir.resolve("plain.log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            writer = Thread.ofPlatform().start(this::loop);
        }

        void append(AuditEvent e) {
            CompletableFuture<Long> done = new CompletableFuture<>();
            lock.lock();
            try {
                incoming.add(new Object[] {e, done});
                work.signal();
            } finally {
                lock.unlock();
            }
            done.join();
        }

        @SuppressWarnings("unchecked")
        private void loop() {
            ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
            while (true) {
                List<Object[]> batch;
                lock.lock();
                try {
                    while (incoming.isEmpty() && !closing) work.awaitUninterruptibly();
                    if (incoming.isEmpty()) return;
                    batch = incoming;
                    incoming = new ArrayList<>();
                } finally {
                    lock.unlock();
                }
                try {
                    buf.clear();
                    for (Object[] p : batch) {
                        AuditEvent e = (AuditEvent) p[0];
                        StringBuilder b = new StringBuilder(256).append("{\"seq\":").append(++seq)
                                .append(",\"time\":\"").append(java.time.Instant.now()).append("\",\"tenant\":\"").append(e.tenant())
                                .append("\",\"actor\":\"").append(e.actor()).append("\",\"task\":\"").append(e.task().orElse(""))
                                .append("\",\"action\":\"").append(e.action()).append("\",\"target\":\"").append(e.target())
                                .append("\",\"decision\":\"").append(e.decision().wire()).append("\",\"details\":{");
                        e.details().forEach((k, v) -> b.append('"').append(k).append("\":\"").append(v).append("\","));
                        buf.put(b.append("}}\n").toString().getBytes(StandardCharsets.UTF_8));
                    }
                    buf.flip();
                    while (buf.hasRemaining()) ch.write(buf);
                    ch.force(false);
                } catch (IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
                for (Object[] p : batch) ((CompletableFuture<Long>) p[1]).complete(seq);
            }
        }

        @Override
        public void close() throws Exception {
            lock.lock();
            try {
                closing = true;
                work.signal();
            } finally {
                lock.unlock();
            }
            writer.join();
            ch.close();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (var s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }
}
