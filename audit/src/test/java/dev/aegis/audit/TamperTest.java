package dev.aegis.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.core.AuditCheckpoint;
import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.AuditLog;
import dev.aegis.core.AuditVerification;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each kind of tampering the issue names is found by verify, which names the first bad record. */
class TamperTest {
    @TempDir
    Path dir;
    String key;
    Path segment;

    @BeforeEach
    void writeLog() {
        try (FileAuditLog log = FileAuditLog.open(dir, AuditOptions.defaults().withCheckpointEvery(10))) {
            for (int i = 1; i <= 100; i++) log.append(Events.sample(i));
            key = log.publicKey();
        }
        segment = dir.resolve("segments/00000000000000000001.log");
        assertThat(verify()).isInstanceOf(AuditVerification.Intact.class);
    }

    @Test
    void anEditedByteIsNamed() throws Exception {
        List<String> lines = lines();
        lines.set(41, lines.get(41).replace("tenant-", "tenanT-")); // seq 42
        write(lines);
        assertBroken(42, "edited");
    }

    @Test
    void anEditedByteInsideAnEscapeIsNamed() throws Exception {
        byte[] b = Files.readAllBytes(segment);
        int at = new String(b, StandardCharsets.ISO_8859_1).indexOf("\"seq\":57,");
        int quote = new String(b, StandardCharsets.ISO_8859_1).indexOf("\\\"", at);
        b[quote + 1] = 'u'; // breaks the JSON of seq 59, the next record with a quote in its note
        Files.write(segment, b);
        assertBroken(59, "unreadable");
    }

    @Test
    void aDeletedRecordIsNamed() throws Exception {
        List<String> lines = lines();
        lines.remove(62); // seq 63
        write(lines);
        assertBroken(63, "missing");
    }

    @Test
    void aSwappedPairIsNamed() throws Exception {
        List<String> lines = lines();
        String a = lines.get(76);
        lines.set(76, lines.get(77));
        lines.set(77, a); // seqs 77 and 78
        write(lines);
        assertBroken(77, "missing");
    }

    @Test
    void aTruncatedTailAfterACheckpointIsNamed() throws Exception {
        write(lines().subList(0, 85)); // checkpoints signed up to 100
        assertBroken(86, "tail cut off");
    }

    @Test
    void aRewrittenChainIsCaughtByItsSignedHead() throws Exception {
        // The attacker recomputes every hash after the edit, so the chain alone looks fine.
        List<String> lines = lines();
        byte[] prev = null;
        for (int i = 32; i < lines.size(); i++) { // seq 33 onwards
            AuditRecord r = ((LineCodec.RecordLine) LineCodec.decode(bytes(lines.get(i)), 0, bytes(lines.get(i)).length)).record();
            if (prev == null) prev = Canonical.HEX.parseHex(r.prevHash());
            AuditEvent e = i == 32 ? r.event().withDetails(java.util.Map.of("note", "nothing happened")) : r.event();
            byte[] hash = Canonical.recordHash(r.seq(), Canonical.time(r.time()), e, prev);
            AuditRecord forged = new AuditRecord(r.seq(), r.time(), e, Canonical.HEX.formatHex(prev), Canonical.HEX.formatHex(hash));
            lines.set(i, new String(LineCodec.encode(forged), StandardCharsets.UTF_8).strip());
            prev = hash;
        }
        write(lines);
        assertBroken(31, "do not match their signed head");
    }

    @Test
    void aForgedCheckpointIsNamed() throws Exception {
        Path cpFile = dir.resolve("checkpoints.log");
        List<String> cps = Files.readAllLines(cpFile);
        AuditCheckpoint real = ((LineCodec.CheckpointLine) LineCodec.decode(bytes(cps.get(4)), 0, bytes(cps.get(4)).length)).checkpoint();
        SigningKey k = SigningKey.loadOrCreate(dir.resolve("forger.key")); // a key of the attacker's own
        AuditCheckpoint unsigned = new AuditCheckpoint(real.fromSeq(), real.toSeq(), real.time(), real.headHash(),
                "00".repeat(32), "");
        AuditCheckpoint forged = new AuditCheckpoint(real.fromSeq(), real.toSeq(), real.time(), real.headHash(),
                "00".repeat(32), k.sign(Canonical.checkpointMessage(unsigned)));
        cps.set(4, new String(LineCodec.encode(forged), StandardCharsets.UTF_8).strip());
        Files.write(cpFile, cps);
        assertBroken(41, "bad signature");
    }

    @Test
    void progressIsReportedOnLongLogs() {
        try (FileAuditLog log = FileAuditLog.open(dir.resolve("long"), AuditOptions.defaults())) {
            for (int i = 0; i < 70_000; i += 1000) {
                List<Thread> ts = new ArrayList<>();
                for (int t = 0; t < 1000; t++) {
                    long n = i + t;
                    ts.add(Thread.ofVirtual().start(() -> log.append(Events.sample(n))));
                }
                for (Thread t : ts) t.join();
            }
            AtomicLong calls = new AtomicLong();
            AuditVerification v = log.verify(1, log.publicKey(), (seq, last) -> calls.incrementAndGet());
            assertThat(v).isInstanceOf(AuditVerification.Intact.class);
            assertThat(calls.get()).isGreaterThanOrEqualTo(2);
        } catch (InterruptedException e) {
            throw new AssertionError(e);
        }
    }

    private void assertBroken(long seq, String why) {
        AuditVerification v = verify();
        assertThat(v).isInstanceOf(AuditVerification.Broken.class);
        AuditVerification.Broken b = (AuditVerification.Broken) v;
        assertThat(b.problem()).contains(why);
        assertThat(b.firstBadSeq()).as(b.problem()).isEqualTo(seq);
    }

    private AuditVerification verify() {
        return AuditVerifier.verifyFolder(dir, 1, key, AuditLog.Progress.NONE);
    }

    private List<String> lines() throws Exception {
        return new ArrayList<>(Files.readAllLines(segment));
    }

    private void write(List<String> lines) throws Exception {
        Files.write(segment, lines);
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
