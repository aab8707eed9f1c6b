package dev.aegis.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.core.AegisException;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.Memory;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The store and the query optimizer through {@link Cortex}, on the default model and a real index. */
class CortexTest {
    @TempDir
    Path dir;
    Fixtures.ManualClock clock = new Fixtures.ManualClock(Instant.parse("2026-11-01T00:00:00Z"));
    Fixtures.Node node;
    Cortex cortex;

    @BeforeEach
    void open() {
        node = Fixtures.cortex(dir, Fixtures.defaultModel(), clock);
        cortex = node.cortex();
    }

    @AfterEach
    void close() {
        node.close();
    }

    private String note(String tenant, String agent, String text) {
        return cortex.store(new Memory.Note(tenant, agent, Optional.empty(), Memory.Kind.NOTE, text, List.of(), Optional.empty()));
    }

    private List<Memory.Hit> search(String tenant, String q) {
        return cortex.search(Memory.Query.of(tenant, q, 5)).hits();
    }

    @Test
    void storedMemoriesAreFoundByMeaningAndStayInTheirTenant() {
        String id = note("acme", "deployer", "The staging database password rotation broke the nightly ETL job at 02:00.");
        note("acme", "deployer", "Lunch menu for Friday: pasta and salad.");
        note("globex", "deployer", "The staging database password rotation broke the nightly ETL job at 02:00.");

        List<Memory.Hit> hits = search("acme", "why did the overnight data pipeline fail");
        assertThat(hits).isNotEmpty();
        assertThat(hits.getFirst().id()).isEqualTo(id);
        assertThat(hits.getFirst().agent()).isEqualTo("deployer");
        // Tenants never see each other's memories, even identical ones.
        assertThat(search("initech", "nightly ETL job")).isEmpty();
        assertThat(search("globex", "nightly ETL job")).extracting(Memory.Hit::id).doesNotContain(id);
        // Namespaces: another agent's query scoped to itself finds nothing of the deployer's.
        assertThat(cortex.search(Memory.Query.of("acme", "nightly ETL job", 5).inAgents(Set.of("reviewer"))).hits()).isEmpty();
    }

    @Test
    void theSameTextIsStoredOnceAndEveryWriteIsAudited() {
        String a = note("acme", "bot", "Build 1841 failed: flaky test test_login_timeout.");
        String b = note("acme", "bot", "  Build 1841 failed:   flaky test test_login_timeout. ");
        assertThat(b).isEqualTo(a);
        assertThat(cortex.stats("acme").memories()).isEqualTo(1);
        cortex.delete(new Memory.Scope.Agent("acme", "bot"));
        List<AuditRecord> audit = node.audit().query(AuditQuery.all(100).tenant("acme"));
        assertThat(audit).extracting(r -> r.event().action()).containsExactly("memory.store", "memory.delete");
        assertThat(audit.getFirst().event().target()).isEqualTo("memory:" + a);
    }

    @Test
    void newerMemoriesWinOverEquallyRelevantOlderOnes() {
        String old = note("acme", "ops", "Disk on db-1 is 91% full; cleaned old WAL segments.");
        clock.advance(Duration.ofDays(60));
        String recent = note("acme", "ops", "Disk on db-1 is 93% full; cleaned old WAL segments again.");
        List<Memory.Hit> hits = search("acme", "db-1 disk full");
        assertThat(hits).extracting(Memory.Hit::id).startsWith(recent, old);

        // With a long half-life the age hardly matters and the closer wording can win; with a short one, recency rules.
        Memory.Query q = Memory.Query.of("acme", "Disk on db-1 is 91% full; cleaned old WAL segments.", 5);
        Memory.Query longHalfLife = new Memory.Query("acme", q.text(), Set.of(), Set.of(), Optional.empty(), Set.of(), Optional.empty(),
                Optional.empty(), 5, Optional.of(Duration.ofDays(3650)), Optional.empty(), Optional.empty());
        assertThat(cortex.search(longHalfLife).hits().getFirst().id()).isEqualTo(old);
        Memory.Query shortHalfLife = new Memory.Query("acme", q.text(), Set.of(), Set.of(), Optional.empty(), Set.of(), Optional.empty(),
                Optional.empty(), 5, Optional.of(Duration.ofDays(1)), Optional.empty(), Optional.empty());
        assertThat(cortex.search(shortHalfLife).hits().getFirst().id()).isEqualTo(recent);
    }

    @Test
    void feedbackAndOutcomeReorderMemories() {
        String t1 = "11111111-1111-1111-1111-111111111111", t2 = "22222222-2222-2222-2222-222222222222";
        List<String> ids = cortex.storeAll(List.of(
                new Memory.Note("acme", "fixer", Optional.of(t1), Memory.Kind.RESULT,
                        "Fixed the flaky upload test by raising the client timeout to 30 s.", List.of(), Optional.of(true)),
                new Memory.Note("acme", "fixer", Optional.of(t2), Memory.Kind.RESULT,
                        "Fixed the flaky upload test by retrying the upload three times.", List.of(), Optional.of(true))));
        String q = "how was the flaky upload test fixed";
        String firstBefore = search("acme", q).getFirst().id();
        String other = firstBefore.equals(ids.get(0)) ? ids.get(1) : ids.get(0);
        String otherTask = other.equals(ids.get(0)) ? t1 : t2;
        String firstTask = otherTask.equals(t1) ? t2 : t1;
        // A client rates the winner's task badly and the other well: the order flips.
        cortex.feedback(new Memory.Feedback("acme", "fixer", firstTask, -1, "this fix did not hold; the test failed again"));
        cortex.feedback(new Memory.Feedback("acme", "fixer", otherTask, 1, ""));
        List<Memory.Hit> after = cortex.search(new Memory.Query("acme", q, Set.of(), Set.of(Memory.Kind.RESULT), Optional.empty(), Set.of(),
                Optional.empty(), Optional.empty(), 5, Optional.empty(), Optional.empty(), Optional.empty())).hits();
        assertThat(after.getFirst().id()).isEqualTo(other);
        assertThat(after.getFirst().rating()).contains(1.0);
        // The feedback's text is a memory of its own, linked to the task.
        List<Memory.Hit> fb = cortex.search(new Memory.Query("acme", "the fix did not hold", Set.of(), Set.of(Memory.Kind.FEEDBACK),
                Optional.of(firstTask), Set.of(), Optional.empty(), Optional.empty(), 5, Optional.empty(), Optional.empty(), Optional.empty())).hits();
        assertThat(fb).singleElement().satisfies(h -> assertThat(h.task()).contains(firstTask));
    }

    @Test
    void filtersAndTheSimilarityFloor() {
        cortex.storeAll(List.of(
                new Memory.Note("acme", "triage", Optional.empty(), Memory.Kind.TOOL_OUTPUT, "Ticket 77: login page shows a blank screen on Safari.",
                        List.of("web"), Optional.of(false)),
                new Memory.Note("acme", "triage", Optional.empty(), Memory.Kind.LOG, "Ticket 78: login page shows a blank screen on Firefox.",
                        List.of("web", "urgent"), Optional.of(true))));
        Memory.Query base = Memory.Query.of("acme", "login page blank", 5);
        assertThat(cortex.search(base).hits()).hasSize(2);
        assertThat(cortex.search(new Memory.Query("acme", base.text(), Set.of(), Set.of(Memory.Kind.LOG), Optional.empty(), Set.of(),
                Optional.empty(), Optional.empty(), 5, Optional.empty(), Optional.empty(), Optional.empty())).hits())
                .singleElement().satisfies(h -> assertThat(h.text()).contains("Firefox"));
        assertThat(cortex.search(new Memory.Query("acme", base.text(), Set.of(), Set.of(), Optional.empty(), Set.of("urgent"),
                Optional.empty(), Optional.empty(), 5, Optional.empty(), Optional.empty(), Optional.empty())).hits()).hasSize(1);
        assertThat(cortex.search(new Memory.Query("acme", base.text(), Set.of(), Set.of(), Optional.empty(), Set.of(),
                Optional.of(false), Optional.empty(), 5, Optional.empty(), Optional.empty(), Optional.empty())).hits())
                .singleElement().satisfies(h -> assertThat(h.text()).contains("Safari"));
        assertThat(cortex.search(new Memory.Query("acme", base.text(), Set.of(), Set.of(), Optional.empty(), Set.of(),
                Optional.empty(), Optional.of(clock.instant().plusSeconds(1)), 5, Optional.empty(), Optional.empty(), Optional.empty())).hits()).isEmpty();
        // Nothing relevant: the floor leaves nothing rather than the least bad.
        assertThat(search("acme", "recipe for a chocolate cake with strawberries")).isEmpty();
    }

    @Test
    void nearDuplicatesMergeAndABudgetPacksExtracts() {
        StringBuilder longLog = new StringBuilder();
        for (int i = 0; i < 60; i++) longLog.append("Step ").append(i).append(": copied shard ").append(i).append(" without errors. ");
        longLog.append("The shard copy of tenant-eu failed because the target bucket had object lock enabled. ");
        for (int i = 60; i < 90; i++) longLog.append("Step ").append(i).append(": copied shard ").append(i).append(" without errors. ");
        cortex.storeAll(List.of(
                new Memory.Note("acme", "mover", Optional.empty(), Memory.Kind.LOG, longLog.toString(), List.of(), Optional.empty()),
                new Memory.Note("acme", "mover", Optional.empty(), Memory.Kind.NOTE, "Object lock on the target bucket blocks shard copies.", List.of(), Optional.empty()),
                new Memory.Note("acme", "mover", Optional.empty(), Memory.Kind.NOTE, "Object lock on the target bucket blocks shard copies!", List.of(), Optional.empty())));
        Memory.Result packed = cortex.search(new Memory.Query("acme", "why did the shard copy fail: object lock on the bucket", Set.of(), Set.of(),
                Optional.empty(), Set.of(), Optional.empty(), Optional.empty(), 5, Optional.empty(), Optional.empty(), Optional.of(60)));
        assertThat(packed.tokens()).isLessThanOrEqualTo(60);
        assertThat(packed.hits()).hasSize(2); // the two notes are one memory now
        assertThat(packed.hits()).anySatisfy(h -> assertThat(h.merged()).isEqualTo(1));
        Memory.Hit extract = packed.hits().stream().filter(h -> h.kind() == Memory.Kind.LOG).findFirst().orElseThrow();
        assertThat(extract.text()).contains("object lock enabled").hasSizeLessThan(longLog.length() / 5);
    }

    @Test
    void deletionIsGoneFromResultsAndAfterMergeFromDisk() throws IOException {
        String marker = "zqxjvmarker" + Long.toString(System.nanoTime(), 36);
        String t = "33333333-3333-3333-3333-333333333333";
        cortex.storeAll(List.of(
                new Memory.Note("acme", "keeper", Optional.empty(), Memory.Kind.NOTE, "Keep this: the VPN config lives in vault path ops/vpn.", List.of(), Optional.empty()),
                new Memory.Note("acme", "leaker", Optional.of(t), Memory.Kind.NOTE, "Customer secret " + marker + " was pasted into a log.", List.of(), Optional.empty())));
        for (int i = 0; i < 5; i++) note("acme", "keeper", "Filler memory number " + i + " about routine backups.");
        assertThat(bytesContain(cortex.folderOf("acme"), marker)).as("the test can see the marker on disk").isTrue();

        assertThat(cortex.delete(new Memory.Scope.TaskOf("acme", t))).isEqualTo(1);
        assertThat(search("acme", "customer secret pasted into a log")).noneMatch(h -> h.text().contains(marker));
        assertThat(bytesContain(cortex.folderOf("acme"), marker)).as("merged away from disk").isFalse();
        assertThat(cortex.stats("acme").memories()).isEqualTo(6);

        assertThat(cortex.delete(new Memory.Scope.Agent("acme", "keeper"))).isEqualTo(6);
        assertThat(cortex.stats("acme").memories()).isZero();
        assertThat(bytesContain(cortex.folderOf("acme"), "vault")).isFalse();
        note("acme", "keeper", "After a tenant-wide delete the index still works.");
        assertThat(cortex.delete(new Memory.Scope.Tenant("acme"))).isEqualTo(1);
        assertThat(cortex.delete(new Memory.Scope.Tenant("acme"))).isZero();
    }

    @Test
    void badInputIsRefusedWithTheFieldAndNothingChanges() {
        assertThatThrownBy(() -> note("acme", "a", "   ")).isInstanceOf(AegisException.class).hasMessageContaining("text: must be a non-empty text");
        String huge = "x".repeat(10 * 1024 * 1024);
        assertThatThrownBy(() -> note("acme", "a", huge)).hasMessageContaining("text: is 10485760 characters; at most 65536");
        assertThatThrownBy(() -> note("acme", "a", "bad \ud800 surrogate")).hasMessageContaining("unpaired surrogate");
        assertThatThrownBy(() -> Memory.Kind.parse("kind", "diary")).hasMessageContaining("\"diary\" is not a memory kind");
        assertThatThrownBy(() -> Memory.Query.of("acme", "q", 0)).hasMessageContaining("limit: 0 must be from 1 to 100");
        assertThatThrownBy(() -> cortex.feedback(new Memory.Feedback("acme", "a", "t", 2, ""))).hasMessageContaining("score: 2.0 must be from -1 to 1");
        assertThat(cortex.stats("acme").memories()).isZero();
        assertThat(node.audit().query(AuditQuery.all(10))).isEmpty();
    }

    static boolean bytesContain(Path folder, String needle) throws IOException {
        byte[] n = needle.getBytes(StandardCharsets.UTF_8);
        try (Stream<Path> files = Files.list(folder)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                byte[] all = Files.readAllBytes(f);
                outer:
                for (int i = 0; i + n.length <= all.length; i++) {
                    for (int j = 0; j < n.length; j++) if (all[i + j] != n[j]) continue outer;
                    return true;
                }
            }
        }
        return false;
    }
}
