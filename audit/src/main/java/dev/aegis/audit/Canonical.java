package dev.aegis.audit;

import dev.aegis.core.AuditCheckpoint;
import dev.aegis.core.AuditEvent;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Map;

/**
 * The canonical byte encodings that are hashed and signed (docs/audit.md, "Canonical encoding"). Length-prefixed
 * binary rather than JSON, so a third party can rebuild them from parsed values without matching our JSON
 * escaping. Change nothing here without a new format version: old logs must keep verifying.
 */
final class Canonical {
    static final byte[] ZERO_HASH = new byte[32];
    static final HexFormat HEX = HexFormat.of();
    static final byte[] CHECKPOINT_TAG = "AEGIS-AUDIT-CHECKPOINT-v1\n".getBytes(StandardCharsets.US_ASCII);
    private static final ThreadLocal<MessageDigest> SHA256 = ThreadLocal.withInitial(Canonical::newSha256);

    private Canonical() {}

    /** Record times are UTC with exactly six fraction digits, so the stored text has one spelling. */
    static String time(Instant t) {
        return RecordTime.format(t);
    }

    /** SHA-256 of u64(seq) s(time) s(tenant) s(actor) s(agent) s(task) s(action) s(target) s(decision) s(reason) u32(n) n×(s(k) s(v)) prev. */
    static byte[] recordHash(long seq, String time, AuditEvent e, byte[] prev) {
        Out out = new Out();
        out.u64(seq);
        out.str(time);
        event(out, e);
        out.write(prev, 0, 32);
        return sha256(out.buf(), out.size());
    }

    /** The part of the hashed bytes that depends on the event alone: s(tenant) ... s(reason) u32(n) n×(s(k) s(v)). */
    static byte[] eventBytes(AuditEvent e) {
        Out out = new Out();
        event(out, e);
        return out.toByteArray();
    }

    private static void event(Out out, AuditEvent e) {
        out.str(e.tenant());
        out.str(e.actor());
        out.str(e.agent().orElse(""));
        out.str(e.task().orElse(""));
        out.str(e.action());
        out.str(e.target());
        out.str(e.decision().wire());
        out.str(e.reason());
        out.u32(e.details().size());
        for (Map.Entry<String, String> d : e.details().entrySet()) {
            out.str(d.getKey());
            out.str(d.getValue());
        }
    }

    /** The bytes an Ed25519 checkpoint signature covers: tag u64(from) u64(to) s(time) head root. */
    static byte[] checkpointMessage(AuditCheckpoint c) {
        Out out = new Out();
        out.write(CHECKPOINT_TAG, 0, CHECKPOINT_TAG.length);
        out.u64(c.fromSeq());
        out.u64(c.toSeq());
        out.str(time(c.time()));
        byte[] head = HEX.parseHex(c.headHash());
        byte[] root = HEX.parseHex(c.merkleRoot());
        out.write(head, 0, head.length);
        out.write(root, 0, root.length);
        return out.toByteArray();
    }

    /** This thread's SHA-256 instance, reset (every {@code digest()} resets it). */
    static MessageDigest digest() {
        return SHA256.get();
    }

    static byte[] sha256(byte[] data, int len) {
        MessageDigest md = SHA256.get();
        md.update(data, 0, len);
        return md.digest();
    }

    static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JDK has no SHA-256", e);
        }
    }

    /** A growable byte buffer with big-endian integers and u32-length-prefixed UTF-8 strings (unsynchronized). */
    private static final class Out {
        private byte[] buf = new byte[512];
        private int n;

        byte[] buf() {
            return buf;
        }

        int size() {
            return n;
        }

        byte[] toByteArray() {
            return java.util.Arrays.copyOf(buf, n);
        }

        void write(int b) {
            if (n == buf.length) buf = java.util.Arrays.copyOf(buf, n * 2);
            buf[n++] = (byte) b;
        }

        void write(byte[] b, int off, int len) {
            if (n + len > buf.length) buf = java.util.Arrays.copyOf(buf, Math.max(n + len, n * 2));
            System.arraycopy(b, off, buf, n, len);
            n += len;
        }

        void u64(long v) {
            for (int s = 56; s >= 0; s -= 8) write((int) (v >>> s));
        }

        void u32(int v) {
            for (int s = 24; s >= 0; s -= 8) write(v >>> s);
        }

        void str(String s) {
            byte[] b = s.getBytes(StandardCharsets.UTF_8);
            u32(b.length);
            write(b, 0, b.length);
        }
    }
}
