package dev.aegis.audit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.DigestException;
import java.time.Instant;

/**
 * Verification's fast path: checks a record line on its bytes, without building objects. It accepts only lines
 * that are exactly what {@link LineCodec#encode} writes (fields in order, no whitespace, no escapes, valid UTF-8,
 * a seq without leading zeros, the one spelling of the time) and whose content hashes to the stored hash; it
 * yields the seq, the stored prev, the hash and its Merkle leaf. Any other line, good or bad, is left to
 * {@link LineCodec#decode}, which then gives the same verdict and message as always: this path accepts a strict
 * subset of what the decoder accepts, with the same meaning, so it changes speed and nothing else.
 *
 * <p>One instance per thread (it keeps a SHA-256 instance, a scratch buffer and the last good time prefix).
 */
final class FastRecord {
    private static final byte[] START = ascii("{\"type\":\"record\",\"seq\":");
    private static final byte[] TIME = ascii(",\"time\":\"");
    private static final byte[][] FIELDS = {ascii("\",\"tenant\":\""), ascii("\",\"actor\":\""), ascii("\",\"agent\":\""),
            ascii("\",\"task\":\""), ascii("\",\"action\":\""), ascii("\",\"target\":\""), ascii("\",\"decision\":\""),
            ascii("\",\"reason\":\"")};
    private static final byte[] DETAILS = ascii("\",\"details\":{");
    private static final byte[] PREV = ascii(",\"prev\":\"");
    private static final byte[] HASH = ascii("\",\"hash\":\"");
    private static final byte[] END = ascii("\"}\n");
    private static final int TENANT = 0, ACTOR = 1, ACTION = 4, DECISION = 6, REASON = 7;
    private static final int TIME_LEN = 27, PREFIX_LEN = 20;
    /** Longer lines go to the decoder, which applies Jackson's limits; appends never write lines this long. */
    static final int MAX_LINE = 1 << 20;

    private final MessageDigest sha = Canonical.newSha256();
    private byte[] canon = new byte[1024];
    private final byte[] timePrefix = new byte[PREFIX_LEN];
    private boolean hasTimePrefix;
    private final int[] fieldStart = new int[FIELDS.length];
    private final int[] fieldEnd = new int[FIELDS.length];

    /**
     * Checks the complete line {@code b[off, off+len)} (with its '\n'). On success returns its seq and writes
     * prev, hash and Merkle leaf (32 bytes each) at {@code at} in the given arrays; otherwise returns -1.
     */
    long check(byte[] b, int off, int len, byte[] prevOut, byte[] hashOut, byte[] leafOut, int at) {
        try {
            return parse(b, off, off + len, prevOut, hashOut, leafOut, at);
        } catch (DigestException | RuntimeException e) {
            return -1; // the decoder will say what is wrong
        }
    }

    private long parse(byte[] b, int p, int end, byte[] prevOut, byte[] hashOut, byte[] leafOut, int at) throws DigestException {
        if (end - p > MAX_LINE || !match(b, p, end, START)) return -1;
        p += START.length;
        if (p >= end || b[p] < '1' || b[p] > '9') return -1; // no leading zero, seq >= 1
        long seq = 0;
        int digits = 0;
        for (; p < end && b[p] >= '0' && b[p] <= '9'; p++, digits++) seq = seq * 10 + (b[p] - '0');
        if (digits > 18 || !match(b, p, end, TIME)) return -1;
        p += TIME.length;
        int time = p;
        if (end - p < TIME_LEN || !timeOk(b, time)) return -1;
        p += TIME_LEN;
        for (int f = 0; f < FIELDS.length; f++) {
            if (!match(b, p, end, FIELDS[f])) return -1;
            p += FIELDS[f].length;
            fieldStart[f] = p;
            p = string(b, p, end);
            if (p < 0) return -1;
            fieldEnd[f] = p;
        }
        if (!visible(b, fieldStart[TENANT], fieldEnd[TENANT]) || !visible(b, fieldStart[ACTOR], fieldEnd[ACTOR])
                || !visible(b, fieldStart[ACTION], fieldEnd[ACTION])) {
            return -1; // blank: the decoder refuses it
        }
        int decision = decision(b, fieldStart[DECISION], fieldEnd[DECISION]);
        if (decision < 0 || decision == 2 && !visible(b, fieldStart[REASON], fieldEnd[REASON])) return -1;
        if (!match(b, p, end, DETAILS)) return -1;
        p += DETAILS.length;

        // Canonical encoding (docs/audit.md): u64(seq) s(time) s(tenant) ... s(reason) u32(n) n*(s(k) s(v)) prev
        int n = 0;
        ensure(8 + 4 + TIME_LEN + 4 * (FIELDS.length + 1) + (end - p) + 64);
        putLong(canon, 0, seq);
        int c = str(b, time, time + TIME_LEN, 8);
        for (int f = 0; f < FIELDS.length; f++) c = str(b, fieldStart[f], fieldEnd[f], c);
        int count = c;
        c += 4;
        int prevKey = -1, prevKeyEnd = -1;
        if (p < end && b[p] == '}') {
            p++;
        } else {
            while (true) {
                if (p >= end || b[p] != '"') return -1;
                int k = ++p;
                p = asciiString(b, p, end);
                if (p < 0 || p + 2 >= end || b[p + 1] != ':' || b[p + 2] != '"') return -1;
                int kEnd = p;
                if (prevKey >= 0 && compare(b, prevKey, prevKeyEnd, k, kEnd) >= 0) return -1; // sorted, no duplicates
                prevKey = k;
                prevKeyEnd = kEnd;
                int v = p + 3;
                p = string(b, v, end);
                if (p < 0 || p + 1 >= end) return -1;
                c = str(b, k, kEnd, c);
                c = str(b, v, p, c);
                n++;
                p++;
                if (b[p] == '}') {
                    p++;
                    break;
                }
                if (b[p] != ',') return -1;
                p++;
            }
        }
        putInt(canon, count, n);
        if (!match(b, p, end, PREV)) return -1;
        p += PREV.length;
        if (end - p < 64 || !hex(b, p, prevOut, at)) return -1;
        p += 64;
        if (!match(b, p, end, HASH)) return -1;
        p += HASH.length;
        if (end - p < 64 || !hex(b, p, leafOut, at)) return -1; // the stored hash, for now
        p += 64;
        if (!match(b, p, end, END) || p + END.length != end) return -1;

        System.arraycopy(prevOut, at, canon, c, 32);
        c += 32;
        sha.update(canon, 0, c);
        sha.digest(hashOut, at, 32);
        if (!java.util.Arrays.equals(hashOut, at, at + 32, leafOut, at, at + 32)) return -1; // edited: the decoder says so
        sha.update((byte) 0);
        sha.update(hashOut, at, 32);
        sha.digest(leafOut, at, 32);
        return seq;
    }

    /** Six fraction digits and 'Z' after a date-and-second prefix that round-trips through {@link RecordTime}. */
    private boolean timeOk(byte[] b, int t) {
        for (int i = PREFIX_LEN; i < TIME_LEN - 1; i++) if (b[t + i] < '0' || b[t + i] > '9') return false;
        if (b[t + TIME_LEN - 1] != 'Z') return false;
        if (hasTimePrefix && java.util.Arrays.equals(b, t, t + PREFIX_LEN, timePrefix, 0, PREFIX_LEN)) return true;
        for (int i = 0; i < TIME_LEN; i++) if (b[t + i] < 0) return false;
        String text = new String(b, t, TIME_LEN, StandardCharsets.US_ASCII);
        Instant parsed = RecordTime.parse(text);
        if (!RecordTime.format(parsed).equals(text)) return false;
        System.arraycopy(b, t, timePrefix, 0, PREFIX_LEN);
        hasTimePrefix = true;
        return true;
    }

    /** End of a JSON string body that needs no escape and is valid UTF-8 (the closing quote), or -1. */
    private static int string(byte[] b, int p, int end) {
        while (p < end) {
            int x = b[p];
            if (x == '"') return p;
            if (x >= 0x20 && x != '\\') {
                p++;
            } else if (x < 0) {
                p = utf8(b, p, end);
                if (p < 0) return -1;
            } else {
                return -1; // an escape or a raw control character
            }
        }
        return -1;
    }

    /** Like {@link #string} but printable ASCII only (details keys, whose sort order is then plain byte order). */
    private static int asciiString(byte[] b, int p, int end) {
        for (; p < end; p++) {
            int x = b[p];
            if (x == '"') return p;
            if (x < 0x20 || x == '\\') return -1;
        }
        return -1;
    }

    /** Skips one well-formed UTF-8 sequence of 2-4 bytes (no overlong forms, surrogates or values past U+10FFFF). */
    private static int utf8(byte[] b, int p, int end) {
        int x = b[p] & 0xff;
        int n, lo = 0x80, hi = 0xbf;
        if (x >= 0xc2 && x <= 0xdf) n = 1;
        else if (x >= 0xe0 && x <= 0xef) {
            n = 2;
            if (x == 0xe0) lo = 0xa0;
            if (x == 0xed) hi = 0x9f;
        } else if (x >= 0xf0 && x <= 0xf4) {
            n = 3;
            if (x == 0xf0) lo = 0x90;
            if (x == 0xf4) hi = 0x8f;
        } else return -1;
        if (p + n >= end) return -1;
        int y = b[p + 1] & 0xff;
        if (y < lo || y > hi) return -1;
        for (int i = 2; i <= n; i++) if ((b[p + i] & 0xc0) != 0x80) return -1;
        return p + n + 1;
    }

    /** Has a printable non-space ASCII character, so String.isBlank is false. */
    private static boolean visible(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) if (b[i] > 0x20 && b[i] < 0x7f) return true;
        return false;
    }

    /** 0 none, 1 allow, 2 deny, -1 anything else. */
    private static int decision(byte[] b, int from, int to) {
        int len = to - from;
        if (len == 4 && b[from] == 'n' && b[from + 1] == 'o' && b[from + 2] == 'n' && b[from + 3] == 'e') return 0;
        if (len == 5 && b[from] == 'a' && b[from + 1] == 'l' && b[from + 2] == 'l' && b[from + 3] == 'o' && b[from + 4] == 'w') return 1;
        if (len == 4 && b[from] == 'd' && b[from + 1] == 'e' && b[from + 2] == 'n' && b[from + 3] == 'y') return 2;
        return -1;
    }

    private static int compare(byte[] b, int a, int aEnd, int c, int cEnd) {
        return java.util.Arrays.compareUnsigned(b, a, aEnd, b, c, cEnd);
    }

    private static boolean hex(byte[] b, int p, byte[] out, int at) {
        for (int i = 0; i < 32; i++) {
            int hi = nibble(b[p + 2 * i]), lo = nibble(b[p + 2 * i + 1]);
            if ((hi | lo) < 0) return false;
            out[at + i] = (byte) (hi << 4 | lo);
        }
        return true;
    }

    private static final byte[] NIBBLE = new byte[256];

    static {
        java.util.Arrays.fill(NIBBLE, (byte) -1);
        for (int i = 0; i < 10; i++) NIBBLE['0' + i] = (byte) i;
        for (int i = 0; i < 6; i++) NIBBLE['a' + i] = (byte) (10 + i);
    }

    private static int nibble(byte x) {
        return NIBBLE[x & 0xff]; // lower-case hex only, as written
    }

    private static boolean match(byte[] b, int p, int end, byte[] what) {
        return end - p >= what.length && java.util.Arrays.equals(b, p, p + what.length, what, 0, what.length);
    }

    private void ensure(int n) {
        if (canon.length < n) canon = new byte[Math.max(n, canon.length * 2)];
    }

    private int str(byte[] b, int from, int to, int c) {
        putInt(canon, c, to - from);
        System.arraycopy(b, from, canon, c + 4, to - from);
        return c + 4 + to - from;
    }

    static void putLong(byte[] a, int at, long v) {
        for (int i = 7; i >= 0; i--, v >>>= 8) a[at + i] = (byte) v;
    }

    static void putInt(byte[] a, int at, int v) {
        a[at] = (byte) (v >>> 24);
        a[at + 1] = (byte) (v >>> 16);
        a[at + 2] = (byte) (v >>> 8);
        a[at + 3] = (byte) v;
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
