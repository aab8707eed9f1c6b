package dev.aegis.runtime.bubblewrap;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Collects the agent's stdout on a virtual thread, up to {@code maxBytes}. Past that it stops storing, marks the
 * output truncated and calls {@code onOverflow} once (the sandbox is killed: a runaway printer should not keep
 * burning CPU until its timeout), then drains whatever is still in the pipe.
 */
final class OutputCapture {
    private final InputStream in;
    private final int maxBytes;
    private final Runnable onOverflow;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final Thread thread;
    private volatile boolean truncated;

    OutputCapture(InputStream in, long maxBytes, Runnable onOverflow) {
        this.in = in;
        this.maxBytes = (int) Math.min(maxBytes, Integer.MAX_VALUE - 8);
        this.onOverflow = onOverflow;
        this.thread = Thread.ofVirtual().name("aegis-stdout").start(this::run);
    }

    boolean await(long millis) throws InterruptedException {
        return thread.join(java.time.Duration.ofMillis(millis));
    }

    /** Only after {@link #await} returned true. */
    String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    boolean truncated() {
        return truncated;
    }

    private void run() {
        byte[] buf = new byte[64 * 1024];
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                if (truncated) continue;
                int room = maxBytes - bytes.size();
                bytes.write(buf, 0, Math.min(n, room));
                if (n > room) {
                    truncated = true;
                    onOverflow.run();
                }
            }
        } catch (IOException e) {
            // closed under us: the sandbox is gone
        }
    }
}
