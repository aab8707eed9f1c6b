package dev.aegis.runtime.docker;

import dev.aegis.core.LogSink;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Turns the agent's stderr chunks into lines for a {@link LogSink}, live. Caps the total at {@code maxBytes} (then
 * one line says so and the rest is dropped) and splits endless lines. A failing sink never stops the stream:
 * Docker would otherwise block the agent on a full pipe until its timeout.
 */
final class LogLines {
    static final int MAX_LINE = 16 * 1024;
    private final long maxBytes;
    private final LogSink sink;
    private final ByteArrayOutputStream line = new ByteArrayOutputStream();
    private long used;
    private boolean cut, sinkBroken;

    LogLines(long maxBytes, LogSink sink) {
        this.maxBytes = maxBytes;
        this.sink = sink;
    }

    synchronized void accept(byte[] chunk) {
        for (byte b : chunk) {
            if (b == '\n') emit();
            else {
                line.write(b);
                if (line.size() >= MAX_LINE) emit();
            }
        }
    }

    /** The stream ended: a last line without a newline still counts. */
    synchronized void finish() {
        if (line.size() > 0) emit();
    }

    private void emit() {
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
            sinkBroken = true;
        }
    }
}
