package dev.aegis.audit;

import dev.aegis.core.AuditCheckpoint;
import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditRecord;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * The one thread that extends the chain. Callers queue events; the thread takes everything queued, chains it,
 * writes it with one write and one fdatasync, and only then completes the callers' futures. While it syncs,
 * the next batch gathers, so the cost of an fsync is shared by all writers waiting at that moment.
 * Checkpoints are signed here too, after the records they cover are durable.
 */
final class GroupCommitWriter implements AutoCloseable {
    private record Pending(AuditEvent event, CompletableFuture<AuditRecord> done) {}

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition work = lock.newCondition();
    private List<Pending> incoming = new ArrayList<>();
    private boolean closing;
    private volatile AuditException failed;
    private volatile long durableSeq;

    private final Segments segments;
    private final Checkpoints checkpoints;
    private final SigningKey key;
    private final AuditOptions options;
    private final Consumer<List<AuditRecord>> onDurable;
    private final Thread thread;
    private final ByteBuffer out = ByteBuffer.allocateDirect(TornTail.MAX_BATCH_BYTES);

    private long lastSeq;
    private byte[] lastHash;
    private Instant lastTime;
    private long intervalFrom;
    private final List<byte[]> leaves;
    private long intervalStartNanos = System.nanoTime();
    private FileChannel segment;
    private long segmentSize;

    GroupCommitWriter(ChainHead head, FileChannel segment, Segments segments, Checkpoints checkpoints, SigningKey key,
                      AuditOptions options, Consumer<List<AuditRecord>> onDurable) throws IOException {
        this.lastSeq = head.lastSeq();
        this.durableSeq = head.lastSeq();
        this.lastHash = head.lastHash();
        this.lastTime = head.lastTime();
        this.intervalFrom = head.intervalFrom();
        this.leaves = new ArrayList<>(head.pendingLeaves());
        this.segment = segment;
        this.segmentSize = segment.size();
        this.segments = segments;
        this.checkpoints = checkpoints;
        this.key = key;
        this.options = options;
        this.onDurable = onDurable;
        this.thread = Thread.ofPlatform().name("audit-writer").daemon().start(this::run);
    }

    long durableSeq() {
        return durableSeq;
    }

    CompletableFuture<AuditRecord> submit(AuditEvent event) {
        CompletableFuture<AuditRecord> f = new CompletableFuture<>();
        lock.lock();
        try {
            if (failed != null) throw failed;
            if (closing) throw AuditException.unavailable("the audit log is closed; appends need an open log", null);
            incoming.add(new Pending(event, f));
            if (incoming.size() == 1) work.signal();
        } finally {
            lock.unlock();
        }
        return f;
    }

    private void run() {
        while (true) {
            List<Pending> batch;
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

    private void commit(List<Pending> batch) throws IOException {
        if (segmentSize >= options.segmentBytes()) roll();
        List<AuditRecord> done = new ArrayList<>(batch.size());
        out.clear();
        for (Pending p : batch) {
            long seq = lastSeq + 1;
            Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
            Instant time = now.isBefore(lastTime) ? lastTime : now; // monotonic, so "since" paging holds
            byte[] hash = Canonical.recordHash(seq, Canonical.time(time), p.event(), lastHash);
            AuditRecord r = new AuditRecord(seq, time, p.event(), Canonical.HEX.formatHex(lastHash), Canonical.HEX.formatHex(hash));
            byte[] line = LineCodec.encode(r);
            if (line.length > out.remaining()) flush(); // keeps every unsynced write within TornTail's bound
            out.put(line);
            lastSeq = seq;
            lastHash = hash;
            lastTime = time;
            if (leaves.isEmpty()) intervalStartNanos = System.nanoTime();
            leaves.add(hash);
            done.add(r);
        }
        flush();
        durableSeq = lastSeq;
        for (int i = 0; i < batch.size(); i++) batch.get(i).done().complete(done.get(i));
        onDurable.accept(done);
    }

    private void flush() throws IOException {
        out.flip();
        while (out.hasRemaining()) segmentSize += segment.write(out);
        segment.force(false);
        out.clear();
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
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        String head = Canonical.HEX.formatHex(lastHash);
        String root = Canonical.HEX.formatHex(MerkleTree.root(leaves));
        AuditCheckpoint unsigned = new AuditCheckpoint(intervalFrom, lastSeq, now, head, root, "");
        checkpoints.append(new AuditCheckpoint(intervalFrom, lastSeq, now, head, root,
                key.sign(Canonical.checkpointMessage(unsigned))));
        leaves.clear();
        intervalFrom = lastSeq + 1;
    }

    /** After a failed write or fsync the page cache may not match the disk, so nothing more is trusted. */
    private void fail(List<Pending> batch, Exception e) {
        AuditException ex = AuditException.unavailable("audit log write failed after seq " + durableSeq + " ("
                + e + "); appends are refused until the log is reopened; check free space and permissions of the "
                + "data folder", e);
        lock.lock();
        try {
            failed = ex;
            batch.addAll(incoming);
            incoming = new ArrayList<>();
        } finally {
            lock.unlock();
        }
        for (Pending p : batch) p.done().completeExceptionally(ex);
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
            segment.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (IOException ignored) {
            // Everything acknowledged was fsync'd already; a failing close loses nothing.
        }
    }
}
