package dev.aegis.audit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.core.AuditLog;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.AuditVerification;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A write cut short by a crash is cut off at the next open, kept aside, and never merged with the next record. */
class TornTailTest {
    @TempDir
    Path dir;
    Path segment;

    @BeforeEach
    void writeLog() {
        try (FileAuditLog log = FileAuditLog.open(dir, AuditOptions.defaults().withCheckpointEvery(4))) {
            for (int i = 1; i <= 10; i++) log.append(Events.sample(i));
        }
        segment = dir.resolve("segments/00000000000000000001.log");
    }

    @Test
    void aHalfWrittenLastRecordIsCutAndKeptAside() throws Exception {
        String half = "{\"type\":\"record\",\"seq\":11,\"time\":\"2026-";
        Files.writeString(segment, half, StandardOpenOption.APPEND);
        assertReopensAndContinues(half);
    }

    @Test
    void zeroFilledBlocksAfterTheLastRecordAreCut() throws Exception {
        Files.write(segment, new byte[8192], StandardOpenOption.APPEND);
        assertReopensAndContinues(null);
    }

    @Test
    void aCompleteButUnreadableLastLineIsCut() throws Exception {
        Files.writeString(segment, "{\"type\":\"record\",\"seq\":11,\"ti\u0000\u0000\n", StandardOpenOption.APPEND);
        assertReopensAndContinues(null);
    }

    @Test
    void damageBeforeTheLastCheckpointIsRefusedNotCut() throws Exception {
        List<String> lines = Files.readAllLines(segment);
        lines.set(5, lines.get(5).substring(0, 40)); // seq 6, signed by checkpoint 5..8
        Files.write(segment, lines);
        assertThatThrownBy(() -> FileAuditLog.open(dir)).hasMessageContaining("not a write cut short")
                .hasMessageContaining("aegis audit verify");
        assertThat(Files.readAllLines(segment)).hasSize(10); // nothing was cut
    }

    private void assertReopensAndContinues(String tornText) throws Exception {
        try (FileAuditLog log = FileAuditLog.open(dir)) {
            assertThat(log.lastSeq()).isEqualTo(10);
            AuditRecord r = log.append(Events.sample(11));
            assertThat(r.seq()).isEqualTo(11);
            assertThat(log.verify(1, log.publicKey(), AuditLog.Progress.NONE)).isInstanceOf(AuditVerification.Intact.class);
        }
        List<String> lines = Files.readAllLines(segment);
        assertThat(lines).hasSize(11);
        assertThat(lines.get(10)).startsWith("{\"type\":\"record\",\"seq\":11,").endsWith("}");
        try (Stream<Path> files = Files.list(segment.getParent())) {
            Path aside = files.filter(p -> p.getFileName().toString().contains(".torn-")).findFirst().orElseThrow();
            if (tornText != null) assertThat(Files.readString(aside, StandardCharsets.UTF_8)).isEqualTo(tornText);
        }
    }
}
