package dev.aegis.audit;

import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.security.DigestException;
import java.security.MessageDigest;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The one thread that extends the chain. Callers encode their event (its JSON fields and its part of the hashed
 * bytes) on their own thread and queue it; the thread takes everything queued, chains it, writes it with one
 * write and one fdatasync, and only then completes the callers' futures. While it syncs, the next batch
 * gathers, so the cost of an fsync is shared by all writers waiting at that moment. Per record the thread only
 * does what must be serial: seq, time, one SHA-256 over bytes already encoded, and copying bytes into the
 * batch. Callers build their {@link AuditRecord} themselves; checkpoints are signed by {@link CheckpointSigner}
 * once the records they cover are durable.
 */
final class GroupCommitWriter implements AutoCloseable {
    private static final byte[] LINE_START = "{\"type\":\"record\",\"seq\":".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] TIME = ",\"time\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] PREV = ",\"prev\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HASH = "\",\"hash\":\"".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] LINE_END = "\"}\n".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] HEX_DIGITS = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);
    private static final int TIME_LEN = 27;
    /** Bytes of a record line besides the event's fields: seq (at most 19 digits), time, prev and hash. */
    private static final int LINE_OVERHEAD = LINE_START.length + 19 + TIME.length + TIME_LEN + 1 + PREV.length + 64
            + HASH.length + 64 + LINE_END.length;

    /** One append: encoded by its caller, chained by the writer, turned into an {@link AuditRecord} on demand. */
    static final class Entry {
        private final AuditEvent event;
        private byte[] fields; // the JSON fields of the event; dropped once written
        private byte[] hashed; // the event's part of the hashed bytes; dropped once written
        private final CompletableFuture<Entry> done = new CompletableFuture<>();
        private long seq;
        private long micros; // epoch microseconds
        private byte[] prev;
        private byte[] hash;
        private AuditRecord record; // built once, by whoever asks first; immutable, so a racy cache is safe

        Entry(AuditEvent event) {
            this.event = event;
            this.fields = LineCodec.eventFields(event);
            this.hashed = Canonical.eventBytes(event);
        }

        long seq() {
            return seq;
        }

        AuditRecord record() {
            AuditRecord r = record;
            if (r == null) {
                Instant time = Instant.ofEpochSecond(Math.floorDiv(micros, 1_000_000L), Math.floorMod(micros, 1_000_000L) * 1000);
                record = r = new AuditRecord(seq, time, event, Canonical.HEX.formatHex(prev), Canonical.HEX.formatHex(hash));
            }
            return r;
        }

        CompletableFuture<Entry> done() {
            return done;
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private List<Entry> incoming = new ArrayList<>();
    private boolean closing;
    private volatile AuditException failed;
    private volatile long durableSeq;

    private final Segments segments;
    private final CheckpointSigner signer;
    private final AuditOptions options;
    private final Consumer<List<Entry>> onDurable;
    private final Thread thread;
    private final byte[] out = new byte[TornTail.MAX_BATCH_BYTES];
    private int outLen;
    private final MessageDigest sha = Canonical.newSha256();
    private final byte[] head = new byte[8 + 4 + TIME_LEN]; // u64(seq) s(time) of the hashed bytes
    private long prefixSecond = Long.MIN_VALUE;
    private final byte[] timePrefix = new byte[20]; // "2026-11-25T10:00:00." of prefixSecond

    private long lastSeq;
    private byte[] lastHash;
    private long lastMicros;
    private long intervalFrom;
    private List<byte[]> leaves;
    private long intervalStartNanos = System.nanoTime();
    private FileChannel segment;
    private long segmentSize;

    GroupCommitWriter(ChainHead head, FileChannel segment, Segments segments, Checkpoints checkpoints, SigningKey key,
                      AuditOptions options, Consumer<List<Entry>> onDurable) throws IOException {
        this.lastSeq = head.lastSeq();
        this.durableSeq = head.lastSeq();
        this.lastHash = head.lastHash();
        this.lastMicros = Math.addExact(Math.multiplyExact(head.lastTime().getEpochSecond(), 1_000_000L), head.lastTime().getNano() / 1000);
        this.intervalFrom = head.intervalFrom();
        this.leaves = new ArrayList<>(head.pendingLeaves());
        this.segment = segment;
        this.segmentSize = segment.size();
        this.segments = segments;
        this.options = options;
        this.onDurable = onDurable;
        this.signer = new CheckpointSigner(checkpoints, key, head.intervalFrom() - 1, this::signerFailed);
        this.thread = Thread.ofPlatform().name("audit-writer").daemon().start(this::run);
    }

    long durableSeq() {
        return durableSeq;
    }

    /** Waits until the checkpoints already due are written. */
    void awaitCheckpoints() {
        signer.awaitWritten();
    }

    /** Encodes {@code event} on the calling thread and queues it. */
    Entry submit(AuditEvent event) {
        Entry e = new Entry(event);
        lock.lock();
        try {
            if (failed != null) throw failed;
            if (closing) throw AuditException.unavailable("the audit log is closed; appends need an open log", null);
            incoming.add(e);
            if (incoming.size() == 1) work.signal();
        } finally {
            lock.unlock();
        }
        return e;
    }

    private void run() {
        while (true) {
            List<Entry> batch;
            boolean stop;
            lock.lock();
            try {
                while (incoming.isEmpty() && !closing && !checkpointDue()) {
                    if (leaves.isEmpty()) work.awaitUninterruptibly();
                    else work.awaitNanos(Math.max(1, options.checkpointInterval().toNanos() - sinceInterval()));
                }
                batch = incoming;
                incoming = new ArrayList<>();
                stop = closing && batch.isEmpty();
            } catch (InterruptedException e) {
                continue;
            } finally {
                lock.unlock();
            }
            try {
                if (!batch.isEmpty()) commit(batch);
                if (!leaves.isEmpty() && (stop || checkpointDue())) checkpoint();
            } catch (IOException | RuntimeException e) {
                fail(batch, e);
            }
            if (stop || failed != null) return;
        }
    }

    private void commit(List<Entry> batch) throws IOException {
        if (segmentSize >= options.segmentBytes()) roll();
        outLen = 0;
        for (Entry e : batch) {
            long seq = lastSeq + 1;
            Instant now = Instant.now();
            long micros = Math.max(now.getEpochSecond() * 1_000_000L + now.getNano() / 1000, lastMicros); // monotonic, so "since" paging holds
            byte[] hash = chain(e, seq, micros);
            if (LINE_OVERHEAD + e.fields.length > out.length - outLen) flush(); // keeps every unsynced write within TornTail's bound
            line(e, seq, hash);
            e.seq = seq;
            e.micros = micros;
            e.prev = lastHash;
            e.hash = hash;
            e.fields = null;
            e.hashed = null;
            lastSeq = seq;
            lastHash = hash;
            lastMicros = micros;
            if (leaves.isEmpty()) intervalStartNanos = System.nanoTime();
            leaves.add(hash);
        }
        flush();
        durableSeq = lastSeq;
        for (Entry e : batch) e.done.complete(e);
        onDurable.accept(batch);
    }

    /** SHA-256( u64(seq) s(time) [the event's bytes] prev ), docs/audit.md; also leaves the time text in {@link #head}. */
    private byte[] chain(Entry e, long seq, long micros) {
        FastRecord.putLong(head, 0, seq);
        FastRecord.putInt(head, 8, TIME_LEN);
        long second = Math.floorDiv(micros, 1_000_000L);
        if (second != prefixSecond) {
            byte[] text = RecordTime.format(Instant.ofEpochSecond(second)).getBytes(StandardCharsets.US_ASCII);
            System.arraycopy(text, 0, timePrefix, 0, 20);
            prefixSecond = second;
        }
        System.arraycopy(timePrefix, 0, head, 12, 20);
        int frac = (int) Math.floorMod(micros, 1_000_000L);
        for (int i = 12 + 25; i >= 12 + 20; i--, frac /= 10) head[i] = (byte) ('0' + frac % 10);
        head[12 + 26] = 'Z';
        sha.update(head, 0, head.length);
        sha.update(e.hashed, 0, e.hashed.length);
        sha.update(lastHash, 0, 32);
        byte[] hash = new byte[32];
        try {
            sha.digest(hash, 0, 32);
        } catch (DigestException ex) {
            throw new IllegalStateException(ex);
        }
        return hash;
    }

    /** The record line, byte for byte what {@link LineCodec#encode(AuditRecord)} writes, appended to the batch. */
    private void line(Entry e, long seq, byte[] hash) {
        put(LINE_START);
        int n = digits(seq);
        for (int i = outLen + n - 1; i >= outLen; i--, seq /= 10) out[i] = (byte) ('0' + seq % 10);
        outLen += n;
        put(TIME);
        System.arraycopy(head, 12, out, outLen, TIME_LEN);
        outLen += TIME_LEN;
        out[outLen++] = '"';
        put(e.fields);
        put(PREV);
        hex(lastHash);
        put(HASH);
        hex(hash);
        put(LINE_END);
    }

    private static int digits(long v) {
        int n = 1;
        while (v >= 10) {
            v /= 10;
            n++;
        }
        return n;
    }

    private void put(byte[] b) {
        System.arraycopy(b, 0, out, outLen, b.length);
        outLen += b.length;
    }

    private void hex(byte[] h) {
        for (int i = 0; i < 32; i++) {
            out[outLen++] = HEX_DIGITS[(h[i] >> 4) & 0xf];
            out[outLen++] = HEX_DIGITS[h[i] & 0xf];
        }
    }

    private void flush() throws IOException {
        ByteBuffer buf = ByteBuffer.wrap(out, 0, outLen);
        while (buf.hasRemaining()) segmentSize += segment.write(buf);
        segment.force(false);
        outLen = 0;
    }

    private void roll() throws IOException {
        segment.close();
        segment = segments.create(lastSeq + 1);
        segmentSize = 0;
    }

    private boolean checkpointDue() {
        return !leaves.isEmpty() && (leaves.size() >= options.checkpointEvery()
                || sinceInterval() >= options.checkpointInterval().toNanos());
    }

    private long sinceInterval() {
        return System.nanoTime() - intervalStartNanos;
    }

    private void checkpoint() {
        signer.submit(intervalFrom, lastSeq, lastHash, leaves);
        leaves = new ArrayList<>(Math.min(options.checkpointEvery(), 1 << 16));
        intervalFrom = lastSeq + 1;
    }

    private void signerFailed(Exception e) {
        fail(new ArrayList<>(), e);
    }

    /** After a failed write or fsync the page cache may not match the disk, so nothing more is trusted. */
    private void fail(List<Entry> batch, Exception e) {
        AuditException ex = AuditException.unavailable("audit log write failed after seq " + durableSeq + " ("
                + e + "); appends are refused until the log is reopened; check free space and permissions of the "
                + "data folder", e);
        lock.lock();
        try {
            if (failed == null) failed = ex;
            batch.addAll(incoming);
            incoming = new ArrayList<>();
            work.signal();
        } finally {
            lock.unlock();
        }
        for (Entry p : batch) p.done.completeExceptionally(ex);
    }

    @Override
    public void close() {
        lock.lock();
        try {
            closing = true;
            work.signal();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
            signer.close();
            segment.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException ignored) {
            // Everything acknowledged was fsync'd already; a failing close loses nothing.
        }
    }
}
