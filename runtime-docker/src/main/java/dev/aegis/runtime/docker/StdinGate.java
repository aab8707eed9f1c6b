package dev.aegis.runtime.docker;

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;

/**
 * The container's attached stdin. docker-java copies it to the hijacked attach connection on its own thread, which
 * blocks in {@link #read} until {@link #open()} lets the one line {@code go\n} through (the shim's signal to exec
 * the agent), or {@link #close()} ends it. After that line the stream ends, so the copying thread finishes.
 */
final class StdinGate extends InputStream {
    private static final byte[] GO = "go\n".getBytes(StandardCharsets.UTF_8);
    private final CountDownLatch gate = new CountDownLatch(1);
    private volatile boolean go;
    private int pos; // only touched by the reading thread

    void open() {
        go = true;
        gate.countDown();
    }

    @Override
    public void close() {
        gate.countDown();
    }

    @Override
    public int read() {
        byte[] one = new byte[1];
        return read(one, 0, 1) == -1 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) {
        try {
            gate.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return -1;
        }
        if (!go || pos >= GO.length || len == 0) return len == 0 ? 0 : -1;
        int n = Math.min(len, GO.length - pos);
        System.arraycopy(GO, pos, b, off, n);
        pos += n;
        return n;
    }
}
