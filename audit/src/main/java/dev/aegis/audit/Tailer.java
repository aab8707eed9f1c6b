package dev.aegis.audit;

import dev.aegis.core.AuditLog;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.LongSupplier;

/**
 * Runs {@link AuditLog#tail} subscriptions, one virtual thread each. A subscriber reads from the in-memory ring
 * while it keeps up and from the files when it falls behind; it sleeps until the writer announces new records.
 */
final class Tailer {
    private static final int PAGE = 1000;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition published = lock.newCondition();
    private final RecentRecords recent;
    private final LongSupplier durableSeq;
    private final Function<AuditQuery, List<AuditRecord>> query;

    Tailer(RecentRecords recent, LongSupplier durableSeq, Function<AuditQuery, List<AuditRecord>> query) {
        this.recent = recent;
        this.durableSeq = durableSeq;
        this.query = query;
    }

    /** Called by the writer after records became durable. */
    void publish(List<GroupCommitWriter.Entry> records) {
        recent.add(records);
        lock.lock();
        try {
            published.signalAll();
        } finally {
            lock.unlock();
        }
    }

    AuditLog.Subscription subscribe(long afterSeq, Consumer<AuditRecord> listener) {
        AtomicBoolean closed = new AtomicBoolean();
        Thread t = Thread.ofVirtual().name("audit-tail").start(() -> {
            long last = afterSeq;
            while (!closed.get()) {
                List<AuditRecord> batch = recent.after(last, PAGE);
                if (batch == null) batch = query.apply(AuditQuery.all(PAGE).after(last));
                if (batch.isEmpty()) {
                    awaitBeyond(last, closed);
                    continue;
                }
                for (AuditRecord r : batch) {
                    if (closed.get()) return;
                    try {
                        listener.accept(r);
                    } catch (RuntimeException e) {
                        return; // the contract: a throwing listener ends its own subscription
                    }
                    last = r.seq();
                }
            }
        });
        return () -> {
            lock.lock();
            try {
                closed.set(true);
                published.signalAll();
            } finally {
                lock.unlock();
            }
            t.interrupt();
        };
    }

    private void awaitBeyond(long seq, AtomicBoolean closed) {
        lock.lock();
        try {
            while (!closed.get() && durableSeq.getAsLong() <= seq) published.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            lock.unlock();
        }
    }
}
