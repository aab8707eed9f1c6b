package dev.aegis.security;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * How the body of one HTTP/1.x message is delimited (RFC 9112 section 6), and copying exactly that body from
 * one side to the other. Requests with both Content-Length and Transfer-Encoding, differing Content-Lengths
 * or a transfer coding other than chunked are refused: a proxy and a server reading them differently is how
 * a second, unchecked request gets smuggled past the proxy.
 */
sealed interface Framing {
    record None() implements Framing {}

    record Length(long bytes) implements Framing {}

    record Chunked() implements Framing {}

    /** Only for responses: the body ends when the server closes the connection. */
    record UntilClose() implements Framing {}

    Framing NONE = new None();
    Pattern DIGITS = Pattern.compile("[0-9]{1,18}");
    Pattern HEX = Pattern.compile("[0-9a-fA-F]{1,15}");
    Framing CHUNKED = new Chunked();

    static Framing ofRequest(HttpHead head) throws Wire.MalformedException {
        List<String> te = head.all("transfer-encoding");
        List<String> cl = head.all("content-length");
        if (!te.isEmpty()) {
            if (!cl.isEmpty()) throw new Wire.MalformedException("both Content-Length and Transfer-Encoding");
            if (te.size() != 1 || !te.getFirst().equalsIgnoreCase("chunked"))
                throw new Wire.MalformedException("Transfer-Encoding " + Reasons.quote(String.join(", ", te)) + "; only chunked is accepted");
            return CHUNKED;
        }
        return cl.isEmpty() ? NONE : length(cl);
    }

    static Framing ofResponse(HttpHead head, String method, int status) throws Wire.MalformedException {
        if (method.equals("HEAD") || status / 100 == 1 || status == 204 || status == 304) return NONE;
        List<String> te = head.all("transfer-encoding");
        // Chunked only when it is the final coding; any other coding runs until the server closes.
        if (!te.isEmpty()) return te.getLast().strip().toLowerCase(Locale.ROOT).endsWith("chunked") ? CHUNKED : new UntilClose();
        List<String> cl = head.all("content-length");
        return cl.isEmpty() ? new UntilClose() : length(cl);
    }

    private static Framing length(List<String> values) throws Wire.MalformedException {
        String first = values.getFirst();
        for (String v : values)
            if (!v.equals(first) || !DIGITS.matcher(v).matches())
                throw new Wire.MalformedException("Content-Length " + Reasons.quote(String.join(", ", values)) + " is not one number");
        long n = Long.parseLong(first);
        return n == 0 ? NONE : new Length(n);
    }

    /**
     * Writes {@code head}, then copies the body. A fixed-length body's bytes that arrived with the head go out in
     * the same write: one segment, so the client wakes once for a small response, not twice.
     */
    static void copy(Framing framing, String head, Wire from, Wire to, ByteBuffer buf) throws IOException {
        byte[] h = head.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
        if (framing instanceof Length l && from.buffered() > 0 && h.length < buf.capacity()) {
            buf.clear().put(h).limit((int) Math.min(buf.capacity(), h.length + l.bytes()));
            int body = from.read(buf); // only buffered bytes: no wait
            to.write(buf.flip());
            if (l.bytes() > body) exactly(l.bytes() - body, from, to, buf);
            return;
        }
        to.write(ByteBuffer.wrap(h));
        copy(framing, from, to, buf);
    }

    /** Copies the body framed by {@code framing} from {@code from} to {@code to}, using {@code buf}. */
    static void copy(Framing framing, Wire from, Wire to, ByteBuffer buf) throws IOException {
        switch (framing) {
            case None n -> {}
            case Length l -> exactly(l.bytes(), from, to, buf);
            case Chunked c -> chunked(from, to, buf);
            case UntilClose u -> {
                while (true) {
                    buf.clear();
                    if (from.read(buf) < 0) return;
                    to.write(buf.flip());
                }
            }
        }
    }

    private static void exactly(long bytes, Wire from, Wire to, ByteBuffer buf) throws IOException {
        while (bytes > 0) {
            buf.clear().limit((int) Math.min(buf.capacity(), bytes));
            int n = from.read(buf);
            if (n < 0) throw new EOFException("connection closed with " + bytes + " body bytes to go");
            bytes -= n;
            to.write(buf.flip());
        }
    }

    private static void chunked(Wire from, Wire to, ByteBuffer buf) throws IOException {
        while (true) {
            String line = from.readLine(HttpHead.MAX_LINE);
            if (line == null) throw new EOFException("connection closed inside a chunked body");
            int semi = line.indexOf(';');
            String hex = (semi < 0 ? line : line.substring(0, semi)).strip();
            if (!HEX.matcher(hex).matches()) throw new Wire.MalformedException("chunk size " + Reasons.quote(line));
            long size = Long.parseLong(hex, 16);
            to.write(line + "\r\n");
            if (size == 0) break;
            exactly(size, from, to, buf);
            String end = from.readLine(HttpHead.MAX_LINE);
            if (end == null || !end.isEmpty()) throw new Wire.MalformedException("chunk not followed by CRLF");
            to.write("\r\n");
        }
        for (int total = 0; ; ) {
            String trailer = from.readLine(HttpHead.MAX_LINE);
            if (trailer == null) throw new EOFException("connection closed inside the trailer fields");
            if (trailer.isEmpty()) break;
            total += trailer.length();
            if (total > HttpHead.MAX_HEADERS) throw new Wire.MalformedException("trailer fields longer than " + HttpHead.MAX_HEADERS + " bytes");
            to.write(trailer + "\r\n");
        }
        to.write("\r\n");
    }
}
