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
 * fsync group commit) beside a plain unchained append of the same record lines (minus prev and hash) with the same
 * caller-side encoding, group commit and fsync;
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
            // And verification, for the same reason: a few passes, as one pass of 50,000 records leaves the
            // JIT (SHA-256 intrinsics, Ed25519 arithmetic) mid-way on 2 cores.
            for (int i = 0; i < 3; i++) log.verify(1, log.publicKey(), (seq, last) -> {});
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

    /**
     * The baseline: the same record lines without {@code prev} and {@code hash}, built the way FileAuditLog builds
     * them (each caller encodes its event's JSON fields on its own thread; the one writer adds seq and time, and
     * writes each batch with one write and one fdatasync before completing the callers' futures), with no chain
     * and no checkpoints. So the ratio is the price of the chain and its checkpoints alone.
     */
    private static final class PlainLog implements AutoCloseable {
        private record Pending(byte[] fields, CompletableFuture<Long> done) {}

        private static final byte[] START = "{\"type\":\"record\",\"seq\":".getBytes(StandardCharsets.US_ASCII);
        private static final byte[] TIME = ",\"time\":\"".getBytes(StandardCharsets.US_ASCII);
        private final ReentrantLock lock = new ReentrantLock();
        private final Condition work = lock.newCondition();
        private List<Pending> incoming = new ArrayList<>();
        private final FileChannel ch;
        private final Thread writer;
        private final byte[] out = new byte[1 << 20];
        private int len;
        private boolean closing;
        private long seq;
        private long lastMicros;
        private long prefixSecond = Long.MIN_VALUE;
        private byte[] prefix;

        PlainLog(Path dir) throws IOException {
            Files.createDirectories(dir);
            ch = FileChannel.open(dir.resolve("plain.log"), StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
            writer = Thread.ofPlatform().start(this::loop);
        }

        void append(AuditEvent e) {
            Pending p = new Pending(fields(e), new CompletableFuture<>());
            lock.lock();
            try {
                incoming.add(p);
                if (incoming.size() == 1) work.signal();
            } finally {
                lock.unlock();
            }
            p.done().join();
        }

        private void loop() {
            while (true) {
                List<Pending> batch;
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
                    len = 0;
                    for (Pending p : batch) {
                        if (p.fields().length + 100 > out.length - len) flush();
                        line(++seq, p.fields());
                    }
                    flush();
                } catch (IOException ex) {
                    throw new java.io.UncheckedIOException(ex);
                }
                for (Pending p : batch) p.done().complete(seq);
            }
        }

        /** {"type":"record","seq":N,"time":"2026-11-25T10:00:00.123456Z" + fields + }\n */
        private void line(long n, byte[] fields) {
            java.time.Instant now = java.time.Instant.now();
            long micros = Math.max(now.getEpochSecond() * 1_000_000L + now.getNano() / 1000, lastMicros);
            lastMicros = micros;
            long second = micros / 1_000_000L;
            if (second != prefixSecond) {
                String date = java.time.LocalDateTime.ofEpochSecond(second, 0, java.time.ZoneOffset.UTC).toString();
                prefix = ((date.length() == 16 ? date + ":00" : date) + ".").getBytes(StandardCharsets.US_ASCII);
                prefixSecond = second;
            }
            put(START);
            byte[] digits = Long.toString(n).getBytes(StandardCharsets.US_ASCII);
            put(digits);
            put(TIME);
            put(prefix);
            int frac = (int) (micros % 1_000_000L);
            for (int i = len + 5; i >= len; i--, frac /= 10) out[i] = (byte) ('0' + frac % 10);
            len += 6;
            out[len++] = 'Z';
            out[len++] = '"';
            put(fields);
            out[len++] = '}';
            out[len++] = '\n';
        }

        private void put(byte[] b) {
            System.arraycopy(b, 0, out, len, b.length);
            len += b.length;
        }

        private void flush() throws IOException {
            ByteBuffer buf = ByteBuffer.wrap(out, 0, len);
            while (buf.hasRemaining()) ch.write(buf);
            ch.force(false);
            len = 0;
        }

        /** The event's fields as FileAuditLog writes them (docs/audit.md, "Record line"). */
        private static byte[] fields(AuditEvent e) {
            StringBuilder b = new StringBuilder(512);
            field(b, "tenant", e.tenant());
            field(b, "actor", e.actor());
            field(b, "agent", e.agent().orElse(""));
            field(b, "task", e.task().orElse(""));
            field(b, "action", e.action());
            field(b, "target", e.target());
            field(b, "decision", e.decision().wire());
            field(b, "reason", e.reason());
            b.append(",\"details\":{");
            boolean first = true;
            for (Map.Entry<String, String> d : e.details().entrySet()) {
                if (!first) b.append(',');
                first = false;
                string(b, d.getKey());
                b.append(':');
                string(b, d.getValue());
            }
            return b.append('}').toString().getBytes(StandardCharsets.UTF_8);
        }

        private static void field(StringBuilder b, String name, String value) {
            b.append(",\"").append(name).append("\":");
            string(b, value);
        }

        private static void string(StringBuilder b, String s) {
            b.append('"');
            boolean plain = true;
            for (int i = 0; plain && i < s.length(); i++) plain = s.charAt(i) >= 0x20 && s.charAt(i) != '"' && s.charAt(i) != '\\';
            if (plain) {
                b.append(s).append('"'); // nothing to escape: one bulk copy, as FileAuditLog does
                return;
            }
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\r' -> b.append("\\r");
                    case '\t' -> b.append("\\t");
                    case '\b' -> b.append("\\b");
                    case '\f' -> b.append("\\f");
                    default -> {
                        if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                        else b.append(c);
                    }
                }
            }
            b.append('"');
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
