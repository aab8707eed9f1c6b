package dev.aegis.audit;

import dev.aegis.core.AuditCheckpoint;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;

/**
 * Signs and writes checkpoints on a thread of its own, in the order the writer hands them over, so that the
 * Merkle root, the Ed25519 signature (~0.7 ms in the JDK) and the fsync of checkpoints.log overlap with the
 * next group commits instead of holding up the appends waiting on them. The writer hands over a range only
 * after its records are durable. A failure stops all later checkpoints (ranges stay contiguous) and is
 * reported to {@code onFailure}, which makes the log refuse appends.
 */
final class CheckpointSigner implements AutoCloseable {
    private record Job(long from, long to, byte[] head, List<byte[]> leaves) {}

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    private final ArrayDeque<Job> jobs = new ArrayDeque<>();
    private final Checkpoints checkpoints;
    private final SigningKey key;
    private final Consumer<Exception> onFailure;
    private final Thread thread;
    private long requestedTo; // guarded by lock
    private long writtenTo; // guarded by lock
    private boolean closing; // guarded by lock
    private boolean failed; // guarded by lock

    CheckpointSigner(Checkpoints checkpoints, SigningKey key, long signedTo, Consumer<Exception> onFailure) {
        this.checkpoints = checkpoints;
        this.key = key;
        this.onFailure = onFailure;
        this.requestedTo = signedTo;
        this.writtenTo = signedTo;
        this.thread = Thread.ofPlatform().name("audit-checkpoints").daemon().start(this::run);
    }

    /** Queues a checkpoint over the durable records {@code from..to}; {@code leaves} are their hashes, now owned here. */
    void submit(long from, long to, byte[] head, List<byte[]> leaves) {
        lock.lock();
        try {
            jobs.add(new Job(from, to, head, leaves));
            requestedTo = to;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Waits until every checkpoint handed over so far is written (a few milliseconds at most), so that proofs,
     * exports and verification right after a checkpoint fell due see it, as when appends waited for it.
     */
    void awaitWritten() {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        lock.lock();
        try {
            while (writtenTo < requestedTo && !failed) {
                long left = deadline - System.nanoTime();
                if (left <= 0) return;
                changed.awaitNanos(left);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }

    private void run() {
        while (true) {
            Job job;
            lock.lock();
            try {
                while (jobs.isEmpty() && !closing) changed.awaitUninterruptibly();
                if (jobs.isEmpty() || failed) return;
                job = jobs.peek();
            } finally {
                lock.unlock();
            }
            try {
                sign(job);
            } catch (RuntimeException e) {
                lock.lock();
                try {
                    failed = true;
                    changed.signalAll();
                } finally {
                    lock.unlock();
                }
                onFailure.accept(e);
                return;
            }
            lock.lock();
            try {
                jobs.poll();
                writtenTo = job.to();
                changed.signalAll();
            } finally {
                lock.unlock();
            }
        }
    }

    private void sign(Job job) {
        Instant now = Instant.now().truncatedTo(ChronoUnit.MICROS);
        String head = Canonical.HEX.formatHex(job.head());
        String root = Canonical.HEX.formatHex(MerkleTree.root(job.leaves()));
        AuditCheckpoint unsigned = new AuditCheckpoint(job.from(), job.to(), now, head, root, "");
        checkpoints.append(new AuditCheckpoint(job.from(), job.to(), now, head, root,
                key.sign(Canonical.checkpointMessage(unsigned))));
    }

    /** Writes every checkpoint handed over, then stops. */
    @Override
    public void close() {
        lock.lock();
        try {
            closing = true;
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
