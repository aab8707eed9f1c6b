package dev.aegis.llm;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Flow;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A response body read with deadlines. The JDK client's blocking {@code InputStream} cannot be given a read timeout,
 * so the body arrives here as a publisher of buffers and every read waits on a queue with one: a provider that stops
 * sending is noticed, and {@link #cancel} closes its connection. One buffer list is requested at a time, so a fast
 * provider cannot fill memory ahead of the reader.
 */
final class BodyReader implements Flow.Subscriber<List<ByteBuffer>> {
    /** Thrown when nothing arrived before the deadline. */
    static final class Timeout extends IOException {
        Timeout() {
            super("no data before the deadline");
        }
    }

    private static final Object END = new Object();
    private final BlockingQueue<Object> queue = new LinkedBlockingQueue<>();
    private volatile Flow.Subscription subscription;
    private ByteBuffer current = ByteBuffer.allocate(0);
    private List<ByteBuffer> pending = List.of();
    private int next;
    private boolean ended;

    @Override
    public void onSubscribe(Flow.Subscription s) {
        subscription = s;
        s.request(1);
    }

    @Override
    public void onNext(List<ByteBuffer> item) {
        queue.add(item);
    }

    @Override
    public void onError(Throwable t) {
        queue.add(t);
    }

    @Override
    public void onComplete() {
        queue.add(END);
    }

    /** Stops reading: the client closes the connection (or returns it to its pool if the body was done). */
    void cancel() {
        Flow.Subscription s = subscription;
        if (s != null) s.cancel();
    }

    /** The next line without its {@code \n} (or {@code \r\n}); null at the end of the body. */
    String line(long deadlineNanos) throws IOException, InterruptedException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        while (true) {
            if (!current.hasRemaining() && !advance(deadlineNanos))
                return line.size() == 0 ? null : decode(line);
            while (current.hasRemaining()) {
                byte b = current.get();
                if (b == '\n') return decode(line);
                line.write(b);
            }
        }
    }

    /** The whole rest of the body, or its first {@code max} bytes (the rest is not read). */
    byte[] all(long deadlineNanos, int max) throws IOException, InterruptedException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (out.size() < max && (current.hasRemaining() || advance(deadlineNanos))) {
            int n = Math.min(current.remaining(), max - out.size());
            out.write(current.array(), current.arrayOffset() + current.position(), n);
            current.position(current.position() + n);
        }
        return out.toByteArray();
    }

    /** Whether the body ended within {@code max} more bytes: read and dropped, so the connection can be reused. */
    boolean drain(long deadlineNanos, int max) {
        try {
            all(deadlineNanos, max);
            return ended;
        } catch (IOException | InterruptedException e) {
            if (e instanceof InterruptedException) Thread.currentThread().interrupt();
            return false;
        }
    }

    private boolean advance(long deadlineNanos) throws IOException, InterruptedException {
        while (true) {
            if (next < pending.size()) {
                ByteBuffer b = pending.get(next++);
                current = b.hasArray() ? b : copy(b);
                if (next == pending.size()) subscription.request(1);
                if (current.hasRemaining()) return true;
                continue;
            }
            if (ended) return false;
            long wait = deadlineNanos - System.nanoTime();
            Object item = wait <= 0 ? queue.poll() : queue.poll(wait, TimeUnit.NANOSECONDS);
            if (item == null) throw new Timeout();
            if (item == END) {
                ended = true;
                return false;
            }
            if (item instanceof Throwable t) throw t instanceof IOException io ? io : new IOException(t.getMessage(), t);
            @SuppressWarnings("unchecked")
            List<ByteBuffer> buffers = (List<ByteBuffer>) item;
            pending = buffers;
            next = 0;
            if (buffers.isEmpty()) subscription.request(1);
        }
    }

    private static ByteBuffer copy(ByteBuffer b) {
        ByteBuffer c = ByteBuffer.allocate(b.remaining());
        c.put(b).flip();
        return c;
    }

    private static String decode(ByteArrayOutputStream line) {
        byte[] bytes = line.toByteArray();
        int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
        return new String(bytes, 0, n, StandardCharsets.UTF_8);
    }
}
