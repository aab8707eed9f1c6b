package dev.aegis.security;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.LongAdder;

/**
 * One side of a proxied connection: a blocking socket channel with a read buffer, so that bytes read past a
 * parsed line (a pipelined request, a ClientHello sent right after CONNECT) are kept for the next reader.
 * Counts the bytes written through it.
 */
final class Wire implements AutoCloseable {
    /** Thrown when a line is longer than allowed; the caller picks the status (414 or 431). */
    static final class LineTooLong extends IOException {
        LineTooLong() {
            super("line too long");
        }
    }

    final SocketChannel channel;
    private final ByteBuffer in = ByteBuffer.allocateDirect(16 * 1024).flip();
    private final LongAdder meter;
    private long written;

    Wire(SocketChannel channel, LongAdder meter) {
        this.channel = channel;
        this.meter = meter;
    }

    /** Whether the read buffer holds as much as it can. */
    boolean full() {
        return in.remaining() == in.capacity();
    }

    int capacity() {
        return in.capacity();
    }

    /** Bytes buffered and not yet consumed. */
    int buffered() {
        return in.remaining();
    }

    /** Reads more into the buffer; false at end of stream. */
    boolean fill() throws IOException {
        in.compact();
        try {
            return channel.read(in) >= 0;
        } finally {
            in.flip();
        }
    }

    /** The next buffered byte without consuming it, reading when the buffer is empty; -1 at end of stream. */
    int peek() throws IOException {
        while (!in.hasRemaining()) if (!fill()) return -1;
        return in.get(in.position()) & 0xff;
    }

    /** The buffered bytes, unconsumed (a view the caller must not keep across reads). */
    ByteBuffer view() {
        return in.duplicate();
    }

    /**
     * One line without its CRLF (or bare LF), read as ISO-8859-1 so every byte survives; null at end of stream
     * before any byte. A CR or NUL inside the line is an error: such bytes are where parsers disagree.
     * {@code max} must be below the buffer's 16 KiB.
     */
    String readLine(int max) throws IOException {
        int scanned = 0; // bytes after position already known to hold no newline
        while (true) {
            int start = in.position();
            for (int i = start + scanned; i < in.limit(); i++) {
                if (in.get(i) != '\n') continue;
                int end = i > start && in.get(i - 1) == '\r' ? i - 1 : i;
                if (end - start > max) throw new LineTooLong();
                String line = ascii(start, end);
                in.position(i + 1);
                check(line);
                return line;
            }
            scanned = in.remaining();
            if (scanned > max + 1) throw new LineTooLong(); // + 1 for a CR not yet followed by its LF
            if (!fill()) {
                if (!in.hasRemaining()) return null;
                throw new EOFException("connection closed in the middle of a line");
            }
        }
    }

    private String ascii(int from, int to) {
        byte[] b = new byte[to - from];
        in.get(from, b);
        return new String(b, StandardCharsets.ISO_8859_1);
    }

    private static void check(String line) throws IOException {
        for (int i = 0; i < line.length(); i++) {
            char c = line.charAt(i);
            if (c == '\r' || c == 0) throw new MalformedException("a CR or NUL inside a line");
        }
    }

    /** Reads into {@code dst}, buffered bytes first; -1 at end of stream. */
    int read(ByteBuffer dst) throws IOException {
        if (in.hasRemaining()) {
            int n = Math.min(in.remaining(), dst.remaining());
            dst.put(in.slice(in.position(), n));
            in.position(in.position() + n);
            return n;
        }
        return channel.read(dst);
    }

    void write(ByteBuffer src) throws IOException {
        int n = src.remaining();
        while (src.hasRemaining()) channel.write(src);
        written += n;
        if (meter != null) meter.add(n);
    }

    /** Writes what the proxy itself says (a 403, a 200 for CONNECT): not egress, so neither counted nor metered. */
    void reply(String ascii) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(ascii.getBytes(StandardCharsets.ISO_8859_1));
        while (b.hasRemaining()) channel.write(b);
    }

    void write(String ascii) throws IOException {
        write(ByteBuffer.wrap(ascii.getBytes(StandardCharsets.ISO_8859_1)));
    }

    long written() {
        return written;
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException ignored) {
            // closing a socket has nothing left to report
        }
    }

    /** The peer sent bytes that do not parse; the message goes into the 400 reason. */
    static final class MalformedException extends IOException {
        MalformedException(String message) {
            super(message);
        }
    }
}
