package dev.aegis.security;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Runs an action (shut a socket's input, close a socket) when a deadline passes, which makes a blocked read or
 * connect on a virtual thread return: blocking socket channels have no timeouts of their own. Deadlines are
 * checked by one {@link Sweeper} thread every {@value Sweeper#TICK_MS} ms, so setting and cancelling one (twice
 * per request) costs two set operations and wakes no thread; a deadline fires up to one tick late.
 */
final class Deadline implements AutoCloseable {
    private final Sweeper sweeper;
    private final long due;
    private final Runnable action;
    private volatile boolean fired;

    private Deadline(Sweeper sweeper, Duration after, Runnable action) {
        this.sweeper = sweeper;
        this.due = System.nanoTime() + after.toNanos();
        this.action = action;
    }

    static Deadline start(Sweeper sweeper, Duration after, Runnable action) {
        Deadline d = new Deadline(sweeper, after, action);
        sweeper.pending.add(d);
        return d;
    }

    boolean fired() {
        return fired;
    }

    /** Cancels the action if it has not run yet. */
    @Override
    public void close() {
        sweeper.pending.remove(this);
    }

    /** The thread that fires due deadlines. */
    static final class Sweeper implements AutoCloseable {
        static final int TICK_MS = 50;
        private final Set<Deadline> pending = ConcurrentHashMap.newKeySet();
        private final Thread thread;
        private volatile boolean closed;

        Sweeper() {
            thread = Thread.ofPlatform().daemon().name("aegis-egress-deadlines").start(this::loop);
        }

        private void loop() {
            while (!closed) {
                try {
                    Thread.sleep(TICK_MS);
                } catch (InterruptedException e) {
                    return;
                }
                long now = System.nanoTime();
                for (Deadline d : pending) {
                    if (now - d.due < 0 || !pending.remove(d)) continue;
                    d.fired = true;
                    try {
                        d.action.run();
                    } catch (RuntimeException ignored) {
                        // an action only closes sockets; nothing to add if that fails
                    }
                }
            }
        }

        @Override
        public void close() {
            closed = true;
            thread.interrupt();
        }
    }
}
