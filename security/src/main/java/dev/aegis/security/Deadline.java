package dev.aegis.security;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs an action (shut a socket's input, close a socket) when a deadline passes, which makes a blocked
 * read or connect on a virtual thread return: blocking socket channels have no timeouts of their own.
 */
final class Deadline implements AutoCloseable {
    private final ScheduledFuture<?> task;
    private volatile boolean fired;

    private Deadline(ScheduledExecutorService timer, Duration after, Runnable action) {
        task = timer.schedule(() -> {
            fired = true;
            action.run();
        }, after.toNanos(), TimeUnit.NANOSECONDS);
    }

    static Deadline start(ScheduledExecutorService timer, Duration after, Runnable action) {
        return new Deadline(timer, after, action);
    }

    boolean fired() {
        return fired;
    }

    /** Cancels the action if it has not run yet. */
    @Override
    public void close() {
        task.cancel(false);
    }
}
