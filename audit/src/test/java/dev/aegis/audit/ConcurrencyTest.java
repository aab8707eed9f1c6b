package dev.aegis.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.core.AuditLog;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.AuditVerification;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Many writers at once: every append gets its own seq, the order is total and the chain verifies. */
class ConcurrencyTest {
    @TempDir
    Path dir;

    @Test
    void concurrentAppendsFormOneVerifiableChain() throws Exception {
        int threads = 48, each = 300;
        ConcurrentLinkedQueue<AuditRecord> returned = new ConcurrentLinkedQueue<>();
        try (FileAuditLog log = FileAuditLog.open(dir, AuditOptions.defaults().withCheckpointEvery(500).withSegmentBytes(1 << 20))) {
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                ts.add(Thread.ofPlatform().start(() -> {
                    long lastSeen = 0;
                    for (int i = 0; i < each; i++) {
                        AuditRecord r = log.append(Events.sample(id * 10_000L + i));
                        assertThat(r.seq()).isGreaterThan(lastSeen); // one writer's records keep its own order
                        lastSeen = r.seq();
                        returned.add(r);
                    }
                }));
            }
            for (Thread t : ts) t.join();
            int total = threads * each;
            assertThat(returned).extracting(AuditRecord::seq).doesNotHaveDuplicates()
                    .allMatch(s -> s >= 1 && s <= total);
            assertThat(log.lastSeq()).isEqualTo(total);
            List<AuditRecord> stored = new ArrayList<>();
            for (long after = 0; after < total; after = stored.getLast().seq()) {
                stored.addAll(log.query(AuditQuery.all(AuditQuery.MAX_LIMIT).after(after)));
            }
            assertThat(stored).containsExactlyInAnyOrderElementsOf(returned);
            assertThat(log.verify(1, log.publicKey(), AuditLog.Progress.NONE)).isInstanceOf(AuditVerification.Intact.class);
        }
    }
}
