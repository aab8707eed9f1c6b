package dev.aegis.audit;

import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;

/** Reads '\n'-terminated lines as byte slices without copying them, and reports a final line that lacks its '\n'. */
final class LineReader {
    private final InputStream in;
    private byte[] buf = new byte[1 << 16];
    private int start;
    private int end;
    private int lineStart;
    private int lineLen;
    private long consumed;
    private long lineOffset;
    private boolean complete;
    private boolean eof;

    LineReader(InputStream in) {
        this.in = in;
    }

    /** Advances to the next line; false at the end of the stream. */
    boolean next() throws IOException {
        int scanned = 0; // bytes after start already searched for '\n', kept across refills
        while (true) {
            for (int i = start + scanned; i < end; i++) {
                if (buf[i] == '\n') return take(i + 1 - start, true);
            }
            scanned = end - start;
            if (eof) return start < end && take(end - start, false);
            fill();
        }
    }

    private void fill() throws IOException {
        if (start > 0) {
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
        }
        if (end == buf.length) buf = Arrays.copyOf(buf, buf.length * 2);
        int n = in.read(buf, end, buf.length - end);
        if (n < 0) eof = true;
        else end += n;
    }

    private boolean take(int len, boolean hasNewline) {
        lineStart = start;
        lineLen = len;
        lineOffset = consumed;
        complete = hasNewline;
        start += len;
        consumed += len;
        return true;
    }

    byte[] buf() {
        return buf;
    }

    int off() {
        return lineStart;
    }

    /** Length including the '\n' when {@link #complete()}. */
    int len() {
        return lineLen;
    }

    boolean complete() {
        return complete;
    }

    /** Byte offset of the current line from the start of the stream. */
    long offset() {
        return lineOffset;
    }

    /** The seq of a record line, read from its fixed prefix without decoding; -1 when the prefix is not there. */
    long peekSeq() {
        return peekSeq(buf, lineStart, lineLen);
    }

    static long peekSeq(byte[] buf, int lineStart, int lineLen) {
        int p = lineStart + PREFIX.length;
        if (lineLen < PREFIX.length + 2 || !Arrays.equals(buf, lineStart, p, PREFIX, 0, PREFIX.length)) return -1;
        long v = 0;
        int limit = lineStart + lineLen;
        for (; p < limit && buf[p] >= '0' && buf[p] <= '9'; p++) v = v * 10 + (buf[p] - '0');
        return v;
    }

    private static final byte[] PREFIX = "{\"type\":\"record\",\"seq\":".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
}
