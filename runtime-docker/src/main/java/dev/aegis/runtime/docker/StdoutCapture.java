package dev.aegis.runtime.docker;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * The agent's stdout, kept up to {@code maxBytes}. Past that it stops storing, marks the output truncated and calls
 * {@code onOverflow} once (the container is killed: a runaway printer should not burn CPU until its timeout).
 * Fed by the single attach thread; read after the stream ended.
 */
final class StdoutCapture {
    private final int maxBytes;
    private final Runnable onOverflow;
    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private volatile boolean truncated;

    StdoutCapture(long maxBytes, Runnable onOverflow) {
        this.maxBytes = (int) Math.min(maxBytes, Integer.MAX_VALUE - 8);
        this.onOverflow = onOverflow;
    }

    synchronized void accept(byte[] chunk) {
        if (truncated) return;
        int room = maxBytes - bytes.size();
        bytes.write(chunk, 0, Math.min(chunk.length, room));
        if (chunk.length > room) {
            truncated = true;
            onOverflow.run();
        }
    }

    synchronized String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    boolean truncated() {
        return truncated;
    }
}
