package dev.aegis.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.core.AuditDecision;
import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditRecord;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * The fast path of verification must accept only lines the decoder accepts, with the same meaning: whatever it
 * takes, {@link LineCodec#decode} takes too, with the same seq, prev and hash, and that hash is the record's.
 */
class FastRecordTest {
    private static final String[] PLAIN = {"a", "tenant-1", "", " ", "é", "✓", "\uD83D\uDE00", "\u007f", "deny", "none",
            "Z", "~", "k", "k2", "\uE000", "api.openai.com:443", "0"};
    private static final String[] SPECIAL = {"q\"uote", "back\\slash", "new\nline", "tab\t", "\u0001", "\uD800"};

    @Test
    void acceptsWhatTheWriterWritesWithTheSameHash() {
        Random rnd = new Random(1);
        FastRecord fast = new FastRecord();
        byte[] prev = new byte[32], hash = new byte[32], leaf = new byte[32];
        int taken = 0;
        for (int i = 1; i <= 5000; i++) {
            AuditRecord r = record(rnd, i);
            byte[] line = LineCodec.encode(r);
            long seq = fast.check(line, 0, line.length, prev, hash, leaf, 0);
            if (seq < 0) continue; // left to the decoder (escapes, non-ASCII keys, blank-looking fields)
            taken++;
            assertThat(seq).isEqualTo(r.seq());
            assertThat(Canonical.HEX.formatHex(hash)).isEqualTo(r.hash());
            assertThat(Canonical.HEX.formatHex(prev)).isEqualTo(r.prevHash());
            assertThat(leaf).isEqualTo(MerkleTree.leaf(hash));
        }
        assertThat(taken).isGreaterThan(500);
        for (int i = 1; i <= 100; i++) { // the events real logs hold all take the fast path
            AuditEvent e = Events.sample(i);
            if (e.details().containsKey("note")) continue;
            byte[] line = LineCodec.encode(chain(i, e, new byte[32]));
            assertThat(fast.check(line, 0, line.length, prev, hash, leaf, 0)).isEqualTo(i);
        }
    }

    @Test
    void mutatedLinesItTakesAreLinesTheDecoderTakesAlike() {
        Random rnd = new Random(2);
        FastRecord fast = new FastRecord();
        byte[] prev = new byte[32], hash = new byte[32], leaf = new byte[32];
        for (int i = 1; i <= 40_000; i++) {
            byte[] line = mutate(rnd, LineCodec.encode(record(rnd, i)));
            long seq = fast.check(line, 0, line.length, prev, hash, leaf, 0);
            if (seq < 0) continue;
            AuditRecord r = ((LineCodec.RecordLine) LineCodec.decode(line, 0, line.length)).record();
            assertThat(seq).isEqualTo(r.seq());
            assertThat(Canonical.HEX.formatHex(prev)).isEqualTo(r.prevHash());
            assertThat(Canonical.HEX.formatHex(hash)).isEqualTo(r.hash());
            byte[] again = Canonical.recordHash(r.seq(), Canonical.time(r.time()), r.event(), prev);
            assertThat(again).isEqualTo(hash);
        }
    }

    /** Mutations keep the hash valid where they can, so that the parser, not the hash check, has to catch them. */
    private static byte[] mutate(Random rnd, byte[] line) {
        byte[] b = line.clone();
        int at = rnd.nextInt(b.length);
        byte[] pool = " \"\\{}:,0123456789abcdefZ.-\n\r\tx\u0001".getBytes(StandardCharsets.ISO_8859_1);
        switch (rnd.nextInt(6)) {
            case 0 -> b[at] = pool[rnd.nextInt(pool.length)];
            case 1 -> b[at] = (byte) rnd.nextInt(256);
            case 2 -> { // insert
                byte[] c = new byte[b.length + 1];
                System.arraycopy(b, 0, c, 0, at);
                c[at] = pool[rnd.nextInt(pool.length)];
                System.arraycopy(b, at, c, at + 1, b.length - at);
                b = c;
            }
            case 3 -> b = concat(Arrays.copyOfRange(b, 0, at), Arrays.copyOfRange(b, at + 1, b.length)); // delete
            case 4 -> { // a plausible edit, then the hash recomputed the way an attacker would
                String s = new String(b, StandardCharsets.UTF_8);
                String[] edits = {"\"seq\":0", "\"seq\":01", "T10:00:60.", "\"decision\":\"DENY\"", "\"tenant\":\" \"",
                        "\"details\":{\"b\":\"1\",\"a\":\"2\"}", "\"details\":{\"a\":\"1\",\"a\":\"2\"}", "\"agent\":null"};
                String e = edits[rnd.nextInt(edits.length)];
                String key = e.substring(0, e.indexOf(':') + 1);
                int k = s.indexOf(key);
                if (k < 0) return b;
                int v = k + key.length();
                int end = s.charAt(v) == '{' ? s.indexOf('}', v) + 1 : s.charAt(v) == '"' ? s.indexOf('"', v + 1) + 1 : s.indexOf(',', v);
                if (e.startsWith("T10")) {
                    int t = s.indexOf("\"time\":\"") + 8 + 10;
                    s = s.substring(0, t) + e + s.substring(t + e.length());
                } else {
                    s = s.substring(0, k) + e + s.substring(end);
                }
                b = s.getBytes(StandardCharsets.UTF_8);
            }
            default -> { /* unchanged */ }
        }
        return b;
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] c = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, c, a.length, b.length);
        return c;
    }

    private static AuditRecord record(Random rnd, long seq) {
        String reason = word(rnd);
        AuditDecision d = AuditDecision.values()[rnd.nextInt(3)];
        if (d == AuditDecision.DENY && reason.isBlank()) reason = "no";
        Map<String, String> details = new TreeMap<>();
        for (int n = rnd.nextInt(4); n > 0; n--) details.put(word(rnd), word(rnd));
        AuditEvent e = new AuditEvent(visible(rnd), visible(rnd), opt(rnd), opt(rnd), visible(rnd), word(rnd), d, reason, details);
        byte[] prev = new byte[32];
        rnd.nextBytes(prev);
        return chain(seq, e, prev);
    }

    private static AuditRecord chain(long seq, AuditEvent e, byte[] prev) {
        Instant t = Instant.ofEpochSecond(1_780_000_000L + seq % 3, (seq * 7919 % 1_000_000) * 1000);
        byte[] hash = Canonical.recordHash(seq, Canonical.time(t), e, prev);
        return new AuditRecord(seq, t, e, Canonical.HEX.formatHex(prev), Canonical.HEX.formatHex(hash));
    }

    private static String word(Random rnd) {
        return one(rnd) + (rnd.nextBoolean() ? one(rnd) : "");
    }

    private static String one(Random rnd) {
        return rnd.nextInt(30) == 0 ? SPECIAL[rnd.nextInt(SPECIAL.length)] : PLAIN[rnd.nextInt(PLAIN.length)];
    }

    private static String visible(Random rnd) {
        String w = word(rnd);
        return w.isBlank() ? "x" + w : w;
    }

    private static Optional<String> opt(Random rnd) {
        String w = word(rnd);
        return w.isEmpty() ? Optional.empty() : Optional.of(w);
    }
}
