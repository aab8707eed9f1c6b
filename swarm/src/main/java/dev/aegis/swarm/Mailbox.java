package dev.aegis.swarm;

import dev.aegis.core.Bus;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The bounded buffer behind every subscription, of either bus: {@link #offer} never blocks the publisher and
 * never grows past {@code capacity}; what does not fit is counted and handed to the reader as one
 * {@link Bus.Overflow} before anything else, so it learns of the gap as soon as it reads again.
 */
class Mailbox implements Bus.Subscription {
    private final ArrayBlockingQueue<Bus.Message> queue;
    private final AtomicLong dropped = new AtomicLong();
    private final Runnable onClose;
    private volatile boolean closed;

    Mailbox(int capacity, Runnable onClose) {
        if (capacity < 1) throw new IllegalArgumentException("buffer: " + capacity + " must be at least 1");
        this.queue = new ArrayBlockingQueue<>(capacity);
        this.onClose = onClose;
    }

    void offer(Bus.Message m) {
        if (closed) return;
        if (!queue.offer(m)) dropped.incrementAndGet();
    }

    /** Counts messages that were lost before reaching the buffer (a stream reader's backlog, say). */
    void lost(long n) {
        dropped.addAndGet(n);
    }

    @Override
    public Optional<Bus.Delivery> next(Duration timeout) throws InterruptedException {
        long gap = dropped.get() > 0 ? dropped.getAndSet(0) : 0; // read first: the common path writes nothing
        if (gap > 0) return Optional.of(new Bus.Overflow(gap));
        Bus.Message m = timeout.isZero() ? queue.poll() : queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
        if (m == null) {
            gap = dropped.getAndSet(0); // a drop may land between the check above and the poll
            return gap > 0 ? Optional.of(new Bus.Overflow(gap)) : Optional.empty();
        }
        return Optional.of(m);
    }

    boolean closed() {
        return closed;
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        queue.clear();
        onClose.run();
    }
}
