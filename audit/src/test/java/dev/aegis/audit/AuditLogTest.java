package dev.aegis.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.core.AegisException;
import dev.aegis.core.AuditProof;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.AuditVerification;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AuditLogTest {
    @TempDir
    Path dir;

    @Test
    void appendReturnsTheChainedRecordAlreadyInTheSegmentFile() throws Exception {
        try (FileAuditLog log = FileAuditLog.open(dir)) {
            AuditRecord a = log.append(Events.sample(1));
            AuditRecord b = log.append(Events.sample(2));
            assertThat(a.seq()).isEqualTo(1);
            assertThat(a.prevHash()).isEqualTo("0".repeat(64));
            assertThat(b.prevHash()).isEqualTo(a.hash());
            // The durability rule: what append returned is in the file, read by a separate reader, at once.
            String onDisk = Files.readString(dir.resolve("segments/00000000000000000001.log"));
            assertThat(onDisk).contains("\"hash\":\"" + b.hash() + "\"");
            assertThat(log.lastSeq()).isEqualTo(2);
        }
    }

    @Test
    void eachLineOnDiskIsTheCanonicalEncodingOfTheReturnedRecord() throws Exception {
        List<AuditRecord> returned = new ArrayList<>();
        try (FileAuditLog log = FileAuditLog.open(dir)) {
            for (int i = 1; i <= 40; i++) returned.add(log.append(Events.sample(i)));
            returned.add(log.append(dev.aegis.core.AuditEvent.of("t", "a\u0001\u001f", "x.y", "", java.util.Map.of("\uD83D\uDE00", "\t\"", "k", "\uE000"))));
        }
        byte[] onDisk = Files.readAllBytes(dir.resolve("segments/00000000000000000001.log"));
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        for (AuditRecord r : returned) expected.write(LineCodec.encode(r));
        assertThat(new String(onDisk, StandardCharsets.UTF_8)).isEqualTo(expected.toString(StandardCharsets.UTF_8));
        for (AuditRecord r : returned) {
            assertThat(r.hash()).isEqualTo(Canonical.HEX.formatHex(Canonical.recordHash(r.seq(), Canonical.time(r.time()),
                    r.event(), Canonical.HEX.parseHex(r.prevHash()))));
        }
    }

    @Test
    void recordsSurviveReopenAndTheChainContinues() {
        AuditRecord last;
        try (FileAuditLog log = FileAuditLog.open(dir)) {
            for (int i = 1; i <= 10; i++) log.append(Events.sample(i));
        }
        try (FileAuditLog log = FileAuditLog.open(dir)) {
            assertThat(log.lastSeq()).isEqualTo(10);
            last = log.append(Events.sample(11));
            assertThat(last.seq()).isEqualTo(11);
            assertThat(log.verify(1, log.publicKey(), AuditLogTestProgress.NONE).intact()).isTrue();
        }
    }

    @Test
    void queryFiltersAndPagesBySeq() {
        try (FileAuditLog log = FileAuditLog.open(dir)) {
            for (int i = 1; i <= 50; i++) log.append(Events.sample(i));
            List<AuditRecord> t1 = log.query(AuditQuery.all(100).tenant("tenant-1"));
            assertThat(t1).hasSize(17).allMatch(r -> r.event().tenant().equals("tenant-1"));
            assertThat(log.query(AuditQuery.all(100).action("policy.egress").task("task-11")))
                    .singleElement().satisfies(r -> assertThat(r.event().reason()).contains("permissions.network.egress"));
            assertThat(log.query(AuditQuery.all(100).agent("summarizer"))).hasSize(30);
            List<AuditRecord> page1 = log.query(AuditQuery.all(20));
            List<AuditRecord> page2 = log.query(AuditQuery.all(20).after(page1.getLast().seq()));
            assertThat(page2.getFirst().seq()).isEqualTo(21);
            AuditRecord r10 = page1.get(9);
            assertThat(log.query(AuditQuery.all(100).since(r10.time()).until(page2.getFirst().time())))
                    .allMatch(r -> r.seq() >= 10 && r.seq() < 21 || r.time().equals(r10.time()));
        }
    }

    @Test
    void tailReplaysThenFollowsNewRecords() throws Exception {
        try (FileAuditLog log = FileAuditLog.open(dir)) {
            for (int i = 1; i <= 5; i++) log.append(Events.sample(i));
            List<Long> seen = new CopyOnWriteArrayList<>();
            try (var sub = log.tail(2, r -> seen.add(r.seq()))) {
                for (int i = 6; i <= 9; i++) log.append(Events.sample(i));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
                while (seen.size() < 7 && System.nanoTime() < deadline) Thread.sleep(5);
            }
            assertThat(seen).containsExactly(3L, 4L, 5L, 6L, 7L, 8L, 9L);
        }
    }

    @Test
    void checkpointsAreSignedEveryNRecordsAndProofsVerify() {
        try (FileAuditLog log = FileAuditLog.open(dir, AuditOptions.defaults().withCheckpointEvery(7))) {
            List<AuditRecord> all = new ArrayList<>();
            for (int i = 1; i <= 30; i++) all.add(log.append(Events.sample(i)));
            for (AuditRecord r : all.subList(0, 28)) {
                AuditProof p = log.proof(r.seq());
                assertThat(AuditVerifier.verifyProof(r, p, log.publicKey())).as("seq %d", r.seq()).isTrue();
                assertThat(AuditVerifier.verifyProof(all.get((int) (r.seq() % 28)), p, log.publicKey())).isFalse();
            }
            assertThat(log.verifyTail()).isInstanceOf(AuditVerification.Intact.class);
        }
    }

    @Test
    void aCheckpointFollowsAfterTheIntervalAndOnClose() throws Exception {
        try (FileAuditLog log = FileAuditLog.open(dir, AuditOptions.defaults().withCheckpointInterval(Duration.ofMillis(100)))) {
            AuditRecord r = log.append(Events.sample(1));
            Thread.sleep(400);
            assertThat(log.proof(r.seq()).checkpoint().toSeq()).isEqualTo(1);
            log.append(Events.sample(2));
        }
        assertThat(Files.readAllLines(dir.resolve("checkpoints.log"))).hasSize(2);
    }

    @Test
    void keyFileIsOwnerOnlyAndThePublicKeyIsPem() {
        try (FileAuditLog log = FileAuditLog.open(dir)) {
            assertThat(log.publicKey()).startsWith("-----BEGIN PUBLIC KEY-----");
        }
        try {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("signing.key"))))
                    .isEqualTo("rw-------");
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void aSecondOpenOfTheSameFolderIsRefused() {
        try (FileAuditLog log = FileAuditLog.open(dir)) {
            assertThatThrownBy(() -> FileAuditLog.open(dir)).isInstanceOf(AegisException.class)
                    .hasMessageContaining("another process");
        }
    }

    @Test
    void exportVerifiesInJavaAndAnEditedExportDoesNot() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        String key;
        try (FileAuditLog log = FileAuditLog.open(dir, AuditOptions.defaults().withCheckpointEvery(10))) {
            for (int i = 1; i <= 25; i++) log.append(Events.sample(i));
            log.export(1, out);
            key = log.publicKey();
        }
        byte[] bytes = out.toByteArray();
        assertThat(AuditVerifier.verifyExport(new ByteArrayInputStream(bytes), key, AuditLogTestProgress.NONE).intact()).isTrue();
        String edited = new String(bytes, StandardCharsets.UTF_8).replace("tenant-2", "tenant-9");
        AuditVerification v = AuditVerifier.verifyExport(new ByteArrayInputStream(edited.getBytes(StandardCharsets.UTF_8)),
                key, AuditLogTestProgress.NONE);
        assertThat(v).isInstanceOf(AuditVerification.Broken.class);
        assertThat(((AuditVerification.Broken) v).firstBadSeq()).isEqualTo(2);
    }

    @Test
    void archivedSegmentsStayInTheChain() {
        try (FileAuditLog log = FileAuditLog.open(dir, AuditOptions.defaults().withSegmentBytes(4096).withCheckpointEvery(5))) {
            for (int i = 1; i <= 200; i++) log.append(Events.sample(i));
            int archived = log.archive(150);
            assertThat(archived).isGreaterThan(2);
            assertThat(log.verify(1, log.publicKey(), AuditLogTestProgress.NONE)).isInstanceOf(AuditVerification.Intact.class);
            assertThat(log.query(AuditQuery.all(3).after(9))).extracting(AuditRecord::seq).containsExactly(10L, 11L, 12L);
        }
        try (FileAuditLog log = FileAuditLog.open(dir)) {
            assertThat(log.lastSeq()).isEqualTo(200);
            assertThat(AuditVerifier.verifyFolder(dir, 1, log.publicKey(), AuditLogTestProgress.NONE).intact()).isTrue();
        }
    }
}
