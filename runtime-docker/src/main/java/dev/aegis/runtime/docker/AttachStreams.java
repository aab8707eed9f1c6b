package dev.aegis.runtime.docker;

import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;

/**
 * The container's attached stdout and stderr, attached before it starts so nothing is lost. Until the shim printed
 * its ready line, stdout is that line and stderr goes to a small diagnostics buffer; {@link #bind} then routes
 * everything to the task's capture and logs. Docker delivers frames on one thread, in order.
 */
final class AttachStreams extends ResultCallback.Adapter<Frame> {
    private final CompletableFuture<String> ready = new CompletableFuture<>();
    private final ByteArrayOutputStream early = new ByteArrayOutputStream();
    private final StringBuilder marker = new StringBuilder();
    private volatile StdoutCapture stdout;
    private volatile LogLines stderr;

    /** Completes with the shim's first stdout line, or exceptionally when the stream ended before it. */
    CompletableFuture<String> ready() {
        return ready;
    }

    void bind(StdoutCapture out, LogLines logs) {
        stdout = out;
        stderr = logs;
    }

    /** What the container wrote to stderr before a task was bound: the reason a start failed. */
    synchronized String early() {
        return early.toString(StandardCharsets.UTF_8).strip();
    }

    @Override
    public void onNext(Frame frame) {
        byte[] bytes = frame.getPayload();
        switch (frame.getStreamType()) {
            case STDOUT, RAW -> {
                if (!ready.isDone()) bytes = readMarker(bytes);
                StdoutCapture out = stdout;
                if (out != null && bytes.length > 0) out.accept(bytes);
            }
            case STDERR -> {
                LogLines logs = stderr;
                if (logs != null) logs.accept(bytes);
                else synchronized (this) {
                    if (early.size() < 4096) early.write(bytes, 0, Math.min(bytes.length, 4096 - early.size()));
                }
            }
            default -> { }
        }
    }

    @Override
    public void onComplete() {
        finish();
        super.onComplete();
    }

    @Override
    public void onError(Throwable throwable) {
        finish();
        super.onError(throwable);
    }

    private void finish() {
        LogLines logs = stderr;
        if (logs != null) logs.finish();
        ready.completeExceptionally(new IllegalStateException("the container's output ended before it was ready"));
    }

    /** Consumes the ready line; returns what followed it in the same frame. */
    private byte[] readMarker(byte[] bytes) {
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] == '\n') {
                ready.complete(marker.toString());
                byte[] rest = new byte[bytes.length - i - 1];
                System.arraycopy(bytes, i + 1, rest, 0, rest.length);
                return rest;
            }
            if (marker.length() < 256) marker.append((char) bytes[i]);
        }
        return new byte[0];
    }
}
