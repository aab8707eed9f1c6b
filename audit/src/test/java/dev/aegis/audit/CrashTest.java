package dev.aegis.audit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditLog;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.AuditVerification;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The durability rule against real crashes: a child JVM appends from many threads and prints each record once
 * append returned; it is killed with SIGKILL mid-stream, 20 times over the same folder. After each kill the log
 * opens (cutting any torn write), verifies, and holds every acknowledged record with the content it was given.
 */
class CrashTest {
    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedRecordSurvivesSigkill() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        long verifiedUpTo = 0;
        for (int round = 0; round < 20; round++) {
            Process child = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"),
                    Writer.class.getName(), dir.toString(), String.valueOf(round))
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            Map<Long, String> acked = new HashMap<>();
            int stopAfter = ThreadLocalRandom.current().nextInt(200, 3000);
            try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; acked.size() < stopAfter && (line = out.readLine()) != null; ) {
                    String[] parts = line.split(" ");
                    acked.put(Long.parseLong(parts[0]), parts[1]);
                }
                child.destroyForcibly(); // SIGKILL: no shutdown hook, no close(), appends in flight are cut
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            }
            assertThat(acked).as("round %d acknowledged nothing", round).isNotEmpty();
            try (FileAuditLog log = FileAuditLog.open(dir)) {
                assertThat(log.lastSeq()).as("round %d", round).isGreaterThanOrEqualTo(acked.keySet().stream().max(Long::compare).orElseThrow());
                AuditVerification v = log.verify(verifiedUpTo + 1, log.publicKey(), AuditLog.Progress.NONE);
                assertThat(v).as("round %d: %s", round, v).isInstanceOf(AuditVerification.Intact.class);
                Map<Long, String> stored = new HashMap<>();
                long after = verifiedUpTo;
                for (var page = log.query(AuditQuery.all(AuditQuery.MAX_LIMIT).after(after)); !page.isEmpty();
                     page = log.query(AuditQuery.all(AuditQuery.MAX_LIMIT).after(after))) {
                    for (AuditRecord r : page) stored.put(r.seq(), r.event().details().get("id"));
                    after = page.getLast().seq();
                }
                acked.forEach((seq, id) -> assertThat(stored.get(seq)).as("acknowledged seq %d", seq).isEqualTo(id));
                verifiedUpTo = log.lastSeq();
            }
        }
    }

    /** The child: 16 threads append until killed, printing "seq id" after each append returned. */
    public static final class Writer {
        public static void main(String[] args) {
            FileAuditLog log = FileAuditLog.open(Path.of(args[0]),
                    AuditOptions.defaults().withCheckpointEvery(97).withCheckpointInterval(Duration.ofMillis(50))
                            .withSegmentBytes(256 * 1024));
            for (int t = 0; t < 16; t++) {
                int thread = t;
                Thread.ofPlatform().start(() -> {
                    for (long i = 0; ; i++) {
                        String id = args[1] + "-" + thread + "-" + i;
                        AuditRecord r = log.append(AuditEvent.of("acme", "key:crash", "api.task.create", "task:" + id,
                                Map.of("id", id, "pad", "x".repeat((int) (i % 200)))));
                        synchronized (System.out) {
                            System.out.println(r.seq() + " " + id);
                            System.out.flush();
                        }
                    }
                });
            }
        }
    }
}
