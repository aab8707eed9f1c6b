package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.LogSink;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * Streams the agent's stderr to a {@link LogSink} line by line, live, on a virtual thread. Caps the total at
 * {@code maxBytes} (then one line says so and the rest is dropped) and splits endless lines, but always keeps
 * draining: an agent blocked on a full pipe would otherwise hang until its timeout.
 */
final class LogPump {
    static final int MAX_LINE = 16 * 1024;
    private final InputStream in;
    private final long maxBytes;
    private final LogSink sink;
    private final Thread thread;
    private long used;
    private boolean cut, sinkBroken;

    LogPump(InputStream in, long maxBytes, LogSink sink) {
        this.in = in;
        this.maxBytes = maxBytes;
        this.sink = sink;
        this.thread = Thread.ofVirtual().name("aegis-logs").start(this::run);
    }

    /** Waits until the stream ended (all writers died); false if it did not within {@code millis}. */
    boolean await(long millis) throws InterruptedException {
        return thread.join(java.time.Duration.ofMillis(millis));
    }

    private void run() {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                for (int i = 0; i < n; i++) {
                    if (buf[i] == '\n') emit(line);
                    else {
                        line.write(buf[i]);
                        if (line.size() >= MAX_LINE) emit(line);
                    }
                }
            }
        } catch (IOException e) {
            // the stream was closed under us: the sandbox is gone
        }
        if (line.size() > 0) emit(line);
    }

    private void emit(ByteArrayOutputStream line) {
        String text = line.toString(StandardCharsets.UTF_8);
        if (text.endsWith("\r")) text = text.substring(0, text.length() - 1);
        int size = line.size() + 1;
        line.reset();
        if (cut) return;
        if (used + size > maxBytes) {
            cut = true;
            text = "[aegis] logs cut: the limit of " + maxBytes + " bytes was reached, the rest was dropped";
        }
        used += size;
        if (sinkBroken) return;
        try {
            sink.line(text);
        } catch (RuntimeException e) {
            sinkBroken = true; // a failing sink must not stop the draining
        }
    }
}
