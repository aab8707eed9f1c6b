package dev.aegis.security;

import dev.aegis.core.InstanceId;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/** One sandbox instance's listeners and open connections, closed together, and its byte counters. */
final class Instance {
    final InstanceId id;
    final LongAdder up = new LongAdder();
    final LongAdder down = new LongAdder();
    final AtomicInteger clients = new AtomicInteger();
    private final Set<AutoCloseable> open = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    Instance(InstanceId id) {
        this.id = id;
    }

    /** Registers a listener or socket to close with the instance; false (and closed at once) if it already is. */
    boolean track(AutoCloseable c) {
        open.add(c);
        if (!closed) return true;
        untrack(c);
        closeQuietly(c);
        return false;
    }

    void untrack(AutoCloseable c) {
        open.remove(c);
    }

    boolean closed() {
        return closed;
    }

    void close() {
        closed = true;
        for (AutoCloseable c : open) closeQuietly(c);
        open.clear();
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing: nothing left to do with the error
        }
    }
}
