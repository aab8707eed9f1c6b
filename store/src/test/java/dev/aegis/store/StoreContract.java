package dev.aegis.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.core.AegisException;
import dev.aegis.core.Agent;
import dev.aegis.core.ApiKey;
import dev.aegis.core.InstanceState;
import dev.aegis.core.LogLine;
import dev.aegis.core.SecretStore;
import dev.aegis.core.ManifestParser;
import dev.aegis.core.Task;
import dev.aegis.core.TaskState;
import dev.aegis.core.TaskStore;
import dev.aegis.core.Transition;
import dev.aegis.core.Usage;
import java.time.Duration;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What every database behind {@link Database} must do; each database adds a subclass that says how to open it. */
abstract class StoreContract {
    static final String ECHO_YAML = """
            name: echo
            version: 1.0.0
            runtime: bubblewrap
            entrypoint: ["sh", "-c", "cat"]
            """;
    // nanoseconds on purpose: the store must not round what the JDK clock gives
    static final Instant T0 = Instant.parse("2026-11-25T10:00:00.123456789Z");

    Database db;

    /** Opens the same database each time it is called within one test. */
    abstract Database open();

    @BeforeEach
    void openDatabase() {
        db = open();
    }

    @AfterEach
    void closeDatabase() {
        db.close();
    }

    static Task queued(String id, String tenant, Instant at) {
        return Task.queued(id, tenant, "echo", "{\"n\":1}", at);
    }

    @Test
    void queuedTaskRoundTripsWithEmptyOptionals() {
        Task t = queued("t1", "acme", T0);
        db.tasks().create(t);
        assertThat(db.tasks().find("t1")).contains(t);
        assertThat(db.tasks().find("nope")).isEmpty();
    }

    @Test
    void childTasksKeepTheirParentAndAreListedUnderIt() {
        Task root = queued("root", "acme", T0);
        Task a = queued("a", "acme", T0.plusMillis(1)).withParent(Optional.of("root"));
        Task b = queued("b", "acme", T0.plusMillis(2)).withParent(Optional.of("root"));
        Task grandchild = queued("g", "acme", T0.plusMillis(3)).withParent(Optional.of("a"));
        for (Task t : List.of(root, b, a, grandchild)) db.tasks().create(t);
        db.tasks().update(a.running(T0.plusSeconds(1)));
        assertThat(db.tasks().find("a").orElseThrow().parent()).contains("root");
        assertThat(db.tasks().find("root").orElseThrow().parent()).isEmpty();
        assertThat(db.tasks().children("root")).extracting(Task::id).containsExactly("a", "b");
        assertThat(db.tasks().children("a")).extracting(Task::id).containsExactly("g");
        assertThat(db.tasks().children("g")).isEmpty();
    }

    @Test
    void everyFieldRoundTrips() {
        Task ok = queued("ok", "acme", T0).running(T0.plusNanos(1)).succeeded("{\"r\":\"é ✓\"}", 0, T0.plusSeconds(2))
                .withUsage(new Usage(Duration.ofNanos(123_456_789), Duration.ofNanos(45_678), 3L << 30, 5_000_000_123L));
        Task bad = queued("bad", "acme", T0).running(T0.plusMillis(5))
                .failed(TaskState.FAILED, new Task.TaskError("exit_code", "exited with 3"), Optional.of(3), T0.plusSeconds(1));
        Task cancelled = queued("c", "acme", T0)
                .failed(TaskState.CANCELLED, new Task.TaskError("cancelled", ""), Optional.empty(), T0.plusSeconds(1));
        for (Task t : List.of(ok, bad, cancelled)) db.tasks().create(t);
        assertThat(db.tasks().find("ok")).contains(ok);
        assertThat(db.tasks().find("bad")).contains(bad);
        assertThat(db.tasks().find("c")).contains(cancelled);
        // Metered per agent: the egress bytes add up as integers (no rounding through a double).
        assertThat(db.tasks().usage("acme", T0, T0.plusSeconds(3)).stream().mapToLong(dev.aegis.core.TaskStore.Metered::egressBytes).sum())
                .isEqualTo(5_000_000_123L);
    }

    @Test
    void updateReplacesTheRow() {
        Task t = queued("t1", "acme", T0);
        db.tasks().create(t);
        Task running = t.running(T0.plusMillis(3));
        db.tasks().update(running);
        assertThat(db.tasks().find("t1")).contains(running);
        Task done = running.succeeded("{}", 0, T0.plusMillis(9));
        db.tasks().update(done);
        assertThat(db.tasks().find("t1")).contains(done);
    }

    @Test
    void unknownUpdateAndDuplicateCreateAreRefused() {
        assertThatThrownBy(() -> db.tasks().update(queued("ghost", "acme", T0)))
                .isInstanceOf(AegisException.class).hasMessageContaining("ghost")
                .extracting(e -> ((AegisException) e).code()).isEqualTo("not_found");
        db.tasks().create(queued("t1", "acme", T0));
        assertThatThrownBy(() -> db.tasks().create(queued("t1", "acme", T0)))
                .isInstanceOf(AegisException.class)
                .extracting(e -> ((AegisException) e).code()).isEqualTo("conflict");
    }

    @Test
    void listIsNewestFirstPerTenantWithLimit() {
        for (int i = 0; i < 5; i++) db.tasks().create(queued("a" + i, "acme", T0.plusSeconds(i)));
        db.tasks().create(queued("other", "globex", T0.plusSeconds(99)));
        assertThat(db.tasks().list("acme", 3)).extracting(Task::id).containsExactly("a4", "a3", "a2");
        assertThat(db.tasks().list("acme", 100)).hasSize(5);
        assertThat(db.tasks().list("acme", 0)).isEmpty();
        assertThat(db.tasks().list("nobody", 10)).isEmpty();
    }

    @Test
    void unfinishedHoldsQueuedAndRunningOnly() {
        Task q = queued("q", "acme", T0);
        Task r = queued("r", "acme", T0.plusSeconds(1)).running(T0.plusSeconds(2));
        Task s = queued("s", "acme", T0).running(T0).succeeded("{}", 0, T0.plusSeconds(1));
        Task f = queued("f", "globex", T0).failed(TaskState.FAILED, new Task.TaskError("timeout", "30s"), Optional.empty(), T0);
        for (Task t : List.of(q, r, s, f)) db.tasks().create(t);
        assertThat(db.tasks().unfinished()).containsExactly(q, r);
    }

    @Test
    void transitionsComeBackInTheOrderTheyHappened() {
        db.tasks().create(queued("t1", "acme", T0));
        db.tasks().create(queued("t2", "acme", T0));
        // same timestamps on purpose: order is the order of calls, not of clocks
        List<Transition> steps = List.of(
                new Transition("t1", "", Optional.empty(), InstanceState.COLD, T0, "accepted"),
                new Transition("t1", "i-1", Optional.of(InstanceState.COLD), InstanceState.WARM, T0, "booted"),
                new Transition("t1", "i-1", Optional.of(InstanceState.WARM), InstanceState.HOT, T0, "task sent"),
                new Transition("t1", "i-1", Optional.of(InstanceState.HOT), InstanceState.TERMINATED, T0.plusNanos(7), "exit 0"));
        db.tasks().addTransition(new Transition("t2", "i-2", Optional.empty(), InstanceState.COLD, T0, "other task"));
        steps.forEach(db.tasks()::addTransition);
        assertThat(db.tasks().transitions("t1")).containsExactlyElementsOf(steps);
        assertThat(db.tasks().transitions("t2")).hasSize(1);
        assertThat(db.tasks().transitions("none")).isEmpty();
    }

    @Test
    void detailedReadsSeeEveryChangeUntilTaskAndInstanceHaveEnded() {
        // Two handles on one database, as two nodes of a cluster: the other one's writes must show where they can.
        try (Database other = open()) {
            Task t = queued("t1", "acme", T0);
            Transition hot = new Transition("t1", "i-1", Optional.of(InstanceState.WARM), InstanceState.HOT, T0, "task sent");
            other.tasks().record(t, true, List.of(hot), List.of());
            assertThat(db.tasks().detailed("t1").orElseThrow().task()).isEqualTo(t);
            Task done = t.running(T0.plusMillis(1)).succeeded("{}", 0, T0.plusMillis(2));
            other.tasks().update(done);
            assertThat(db.tasks().detailed("t1").orElseThrow().task()).as("ended, but its sandbox not yet").isEqualTo(done);
            Transition end = new Transition("t1", "i-1", Optional.of(InstanceState.HOT), InstanceState.TERMINATED, T0, "exit 0");
            other.tasks().addTransition(end);
            TaskStore.Detailed settled = db.tasks().detailed("t1").orElseThrow();
            assertThat(settled.transitions()).containsExactly(hot, end);
            assertThat(db.tasks().detailed("t1")).as("read again (from memory now)").contains(settled);
            assertThat(db.tasks().detailed("none")).isEmpty();
        }
    }

    @Test
    void recordWritesTaskStepsAndLogsAtomically() {
        Task t = queued("t1", "acme", T0);
        Transition cold = new Transition("t1", "", Optional.empty(), InstanceState.COLD, T0, "accepted");
        db.tasks().record(t, true, List.of(cold), List.of());
        Task done = t.running(T0.plusMillis(1)).succeeded("{}", 0, T0.plusMillis(2));
        Transition end = new Transition("t1", "i-1", Optional.of(InstanceState.COLD), InstanceState.FAILED, T0, "x");
        LogLine line = new LogLine("t1", 1, T0, "hello");
        db.tasks().record(done, false, List.of(end), List.of(line));
        assertThat(db.tasks().find("t1")).contains(done);
        assertThat(db.tasks().transitions("t1")).containsExactly(cold, end);
        assertThat(db.tasks().logs("t1", 0)).containsExactly(line);
        // A failing step (the task row is gone) writes none of its parts.
        Task ghost = queued("ghost", "acme", T0);
        Transition lost = new Transition("ghost", "", Optional.empty(), InstanceState.COLD, T0, "never");
        assertThatThrownBy(() -> db.tasks().record(ghost, false, List.of(lost), List.of(new LogLine("ghost", 1, T0, "x"))))
                .isInstanceOf(AegisException.class);
        assertThat(db.tasks().transitions("ghost")).isEmpty();
        assertThat(db.tasks().logs("ghost", 0)).isEmpty();
        assertThatThrownBy(() -> db.tasks().record(t, true, List.of(), List.of())).isInstanceOf(AegisException.class)
                .hasMessageContaining("already exists");
    }

    @Test
    void logsAfterSeqInOrderAndRetriesAreHarmless() {
        db.tasks().create(queued("t1", "acme", T0));
        List<LogLine> lines = IntStream.rangeClosed(1, 10)
                .mapToObj(i -> new LogLine("t1", i, T0.plusMillis(i), "line " + i + (i == 3 ? " \t\"quoted\" ü" : "")))
                .toList();
        db.tasks().appendLogs(lines.subList(0, 6));
        db.tasks().appendLogs(lines.subList(4, 10)); // overlaps 5 and 6: a retried batch
        db.tasks().appendLogs(List.of());
        assertThat(db.tasks().logs("t1", 0)).containsExactlyElementsOf(lines);
        assertThat(db.tasks().logs("t1", 7)).containsExactlyElementsOf(lines.subList(7, 10));
        assertThat(db.tasks().logs("t1", 10)).isEmpty();
    }

    @Test
    void keysRoundTripAndRevoke() {
        assertThat(db.keys().isEmpty()).isTrue();
        ApiKey k = new ApiKey("k1", "acme", "admin", "c2FsdA", "aGFzaA", T0, Optional.empty(), Optional.of(T0.plusSeconds(3600)));
        db.keys().save(k);
        assertThat(db.keys().isEmpty()).isFalse();
        assertThat(db.keys().find("k1")).contains(k);
        ApiKey revoked = new ApiKey("k1", "acme", "admin", "c2FsdA", "aGFzaA", T0, Optional.of(T0.plusSeconds(60)), Optional.of(T0.plusSeconds(3600)));
        db.keys().save(revoked);
        assertThat(db.keys().find("k1")).contains(revoked);
        assertThat(db.keys().find("k2")).isEmpty();
        ApiKey other = new ApiKey("k0", "other", "reader", "s", "h", T0.minusSeconds(1), Optional.empty(), Optional.empty());
        db.keys().save(other);
        assertThat(db.keys().list("acme")).containsExactly(revoked);
        assertThat(db.keys().list("other")).containsExactly(other);
        assertThat(db.keys().list("nobody")).isEmpty();
    }

    /** Needs {@link ManifestParser}: the store re-parses the YAML it kept. */
    @Test
    void agentsRoundTripAndReplace() {
        Agent v1 = new Agent("acme", ManifestParser.parse(ECHO_YAML, "test"), ECHO_YAML,
                Path.of("/data/agents/acme/echo/0123456789ab"), "0123456789ab" + "0".repeat(52), T0);
        db.agents().save(v1);
        assertThat(db.agents().find("acme", "echo")).contains(v1);
        assertThat(db.agents().find("globex", "echo")).isEmpty();
        String yaml2 = ECHO_YAML.replace("1.0.0", "1.1.0");
        Agent v2 = new Agent("acme", ManifestParser.parse(yaml2, "test"), yaml2,
                Path.of("/data/agents/acme/echo/ba9876543210"), "ba9876543210" + "f".repeat(52), T0.plusSeconds(5));
        db.agents().save(v2);
        assertThat(db.agents().find("acme", "echo")).contains(v2);
        assertThat(db.agents().list("acme")).containsExactly(v2);
        assertThat(db.agents().list("globex")).isEmpty();
    }

    @Test
    void concurrentWritersLoseNothing() throws Exception {
        int writers = 32, batches = 10, perBatch = 5;
        List<Future<?>> done = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int w = 0; w < writers; w++) {
                String id = "c" + w;
                done.add(pool.submit(() -> {
                    Task t = queued(id, "acme", Instant.now());
                    db.tasks().create(t);
                    db.tasks().addTransition(new Transition(id, "", Optional.empty(), InstanceState.COLD, Instant.now(), "accepted"));
                    Task running = t.running(Instant.now());
                    db.tasks().update(running);
                    for (int b = 0; b < batches; b++) {
                        int base = b * perBatch;
                        db.tasks().appendLogs(IntStream.rangeClosed(base + 1, base + perBatch)
                                .mapToObj(i -> new LogLine(id, i, Instant.now(), "out " + i)).toList());
                        db.tasks().find(id).orElseThrow();
                    }
                    db.tasks().addTransition(new Transition(id, "i", Optional.of(InstanceState.COLD), InstanceState.FAILED, Instant.now(), "x"));
                    db.tasks().update(running.succeeded("{}", 0, Instant.now()));
                    return null;
                }));
            }
            for (Future<?> f : done) f.get(); // rethrows any SQLITE_BUSY or lost connection
        }
        assertThat(db.tasks().list("acme", 1000)).hasSize(writers).allMatch(t -> t.state() == TaskState.SUCCEEDED);
        assertThat(db.tasks().unfinished()).isEmpty();
        for (int w = 0; w < writers; w++) {
            assertThat(db.tasks().logs("c" + w, 0)).extracting(LogLine::seq)
                    .containsExactlyElementsOf(IntStream.rangeClosed(1, batches * perBatch).asLongStream().boxed().toList());
            assertThat(db.tasks().transitions("c" + w)).extracting(Transition::to)
                    .containsExactly(InstanceState.COLD, InstanceState.FAILED);
        }
    }

    @Test
    void dataSurvivesReopenAndMigrationsRunOnce() {
        Task t = queued(UUID.randomUUID().toString(), "acme", T0).running(T0.plusSeconds(1));
        db.tasks().create(t);
        db.tasks().appendLogs(List.of(new LogLine(t.id(), 1, T0, "hello")));
        db.keys().save(new ApiKey("k1", "acme", "admin", "s", "h", T0, Optional.empty(), Optional.empty()));
        int migrations = migrationsApplied(db);
        db.close();
        db = open();
        db.close();
        db = open();
        assertThat(db.tasks().find(t.id())).contains(t);
        assertThat(db.tasks().logs(t.id(), 0)).extracting(LogLine::line).containsExactly("hello");
        assertThat(db.keys().isEmpty()).isFalse();
        assertThat(migrationsApplied(db)).isEqualTo(migrations).isPositive();
    }

    @Test
    void llmProvidersRoundTripPerTenantAndTokensAddUpPerAgentAndTask() {
        var p = dev.aegis.core.LlmProvider.of("anthropic", "https://api.anthropic.com/", "ANTHROPIC_KEY", T0);
        assertThat(db.llm().provider("acme")).isEmpty();
        assertThat(db.llm().putProvider("acme", p)).isFalse();
        assertThat(db.llm().provider("acme")).contains(p);
        assertThat(p.baseUrl()).isEqualTo("https://api.anthropic.com");
        var q = dev.aegis.core.LlmProvider.of("openai", "http://127.0.0.1:8080/v1", "OPENAI_API_KEY", T0.plusSeconds(1));
        assertThat(db.llm().putProvider("acme", q)).isTrue();
        assertThat(db.llm().provider("acme")).contains(q);
        assertThat(db.llm().provider("other")).isEmpty();
        assertThat(db.llm().deleteProvider("other")).isFalse();
        assertThat(db.llm().deleteProvider("acme")).isTrue();
        assertThat(db.llm().provider("acme")).isEmpty();

        db.llm().meter(new dev.aegis.core.LlmStore.Metered("acme", "writer", "t1", "m", 10, 5, T0));
        db.llm().meter(new dev.aegis.core.LlmStore.Metered("acme", "writer", "t1", "m", 7, 3, T0.plusSeconds(5)));
        db.llm().meter(new dev.aegis.core.LlmStore.Metered("acme", "reader", "t2", "m", 4, 0, T0.plusSeconds(6)));
        db.llm().meter(new dev.aegis.core.LlmStore.Metered("other", "writer", "t3", "m", 100, 100, T0));
        assertThat(db.llm().tokens("acme", T0, T0.plusSeconds(60))).containsExactly(
                new dev.aegis.core.LlmStore.Tokens("reader", 1, 4, 0), new dev.aegis.core.LlmStore.Tokens("writer", 2, 17, 8));
        assertThat(db.llm().tokens("acme", T0.plusSeconds(1), T0.plusSeconds(6)))
                .containsExactly(new dev.aegis.core.LlmStore.Tokens("writer", 1, 7, 3));
        assertThat(db.llm().taskTokens("acme", "t1")).isEqualTo(new dev.aegis.core.LlmStore.Tokens("writer", 2, 17, 8));
        assertThat(db.llm().taskTokens("acme", "t3").total()).as("another tenant's task").isZero();
        assertThat(db.llm().taskTokens("acme", "none")).isEqualTo(dev.aegis.core.LlmStore.Tokens.none("*"));
    }

    static final byte[] KEY = new byte[32];
    static final byte[] OTHER_KEY = new byte[32];

    static {
        java.util.Arrays.fill(KEY, (byte) 7);
        java.util.Arrays.fill(OTHER_KEY, (byte) 9);
    }

    @Test
    void secretsRoundTripSealedAndListOnlyNames() {
        SqlSecretStore s = db.secrets(new SecretCipher(KEY));
        assertThat(s.put("acme", "OPENAI_API_KEY", "sk-live-ünïcode-1234", T0)).isFalse();
        assertThat(s.put("acme", "DB_PASSWORD", "hunter2hunter2", T0.plusSeconds(1))).isFalse();
        assertThat(s.put("other", "OPENAI_API_KEY", "sk-other-tenant", T0)).isFalse();
        assertThat(s.reveal("acme", List.of("OPENAI_API_KEY", "DB_PASSWORD", "NOPE")))
                .containsExactlyInAnyOrderEntriesOf(java.util.Map.of("OPENAI_API_KEY", "sk-live-ünïcode-1234", "DB_PASSWORD", "hunter2hunter2"));
        assertThat(s.reveal("other", List.of("OPENAI_API_KEY"))).containsEntry("OPENAI_API_KEY", "sk-other-tenant");
        assertThat(s.list("acme")).extracting(i -> i.name()).containsExactly("DB_PASSWORD", "OPENAI_API_KEY");

        // Replacing keeps created_at, moves updated_at, and takes a new nonce.
        String nonce = column("acme", "OPENAI_API_KEY", "nonce");
        assertThat(s.put("acme", "OPENAI_API_KEY", "sk-rotated-5678", T0.plusSeconds(60))).isTrue();
        SecretStore.Info info = s.list("acme").get(1);
        assertThat(info.createdAt()).isEqualTo(T0);
        assertThat(info.updatedAt()).isEqualTo(T0.plusSeconds(60));
        assertThat(column("acme", "OPENAI_API_KEY", "nonce")).isNotEqualTo(nonce);
        assertThat(s.reveal("acme", List.of("OPENAI_API_KEY"))).containsEntry("OPENAI_API_KEY", "sk-rotated-5678");

        // Nothing in the table holds the value in clear, in any column.
        String rows = db.reader().withHandle(h -> h.createQuery("SELECT * FROM secrets").mapToMap().list()).toString();
        assertThat(rows).doesNotContain("sk-rotated").doesNotContain("hunter2").doesNotContain("sk-other")
                .doesNotContain(java.util.Base64.getEncoder().encodeToString("hunter2hunter2".getBytes()));
        assertThat(column("acme", "DB_PASSWORD", "key_id")).isEqualTo(new SecretCipher(KEY).keyId());

        assertThat(s.delete("acme", "DB_PASSWORD")).isTrue();
        assertThat(s.delete("acme", "DB_PASSWORD")).isFalse();
        assertThat(s.list("acme")).extracting(i -> i.name()).containsExactly("OPENAI_API_KEY");
        assertThat(s.check()).isEqualTo(new SqlSecretStore.Check(2, List.of()));
    }

    @Test
    void aCiphertextMovedToAnotherTenantOrNameDoesNotOpen() {
        SqlSecretStore s = db.secrets(new SecretCipher(KEY));
        s.put("acme", "TOKEN", "acme-token-value", T0);
        s.put("evil", "TOKEN", "evil-token-value", T0);
        s.put("evil", "OTHER", "evil-other-value", T0);
        // An attacker with write access to the table copies acme's sealed value over their own rows.
        for (String[] target : List.of(new String[]{"evil", "TOKEN"}, new String[]{"evil", "OTHER"}))
            db.reader().useHandle(h -> h.createUpdate("""
                    UPDATE secrets SET nonce = (SELECT nonce FROM secrets WHERE tenant = 'acme' AND name = 'TOKEN'),
                        ciphertext = (SELECT ciphertext FROM secrets WHERE tenant = 'acme' AND name = 'TOKEN')
                    WHERE tenant = :t AND name = :n""").bind("t", target[0]).bind("n", target[1]).execute());
        assertThatThrownBy(() -> s.reveal("evil", List.of("TOKEN"))).isInstanceOf(SecretCipher.WrongKey.class)
                .hasMessageContaining("TOKEN").hasMessageContaining("changed or moved").hasMessageNotContaining("acme-token");
        assertThatThrownBy(() -> s.reveal("evil", List.of("OTHER"))).isInstanceOf(SecretCipher.WrongKey.class);
        assertThat(s.reveal("acme", List.of("TOKEN"))).containsEntry("TOKEN", "acme-token-value");
        // One flipped bit of a ciphertext is caught too.
        db.reader().useHandle(h -> h.createUpdate("UPDATE secrets SET ciphertext = :ct WHERE tenant = 'acme'")
                .bind("ct", flipFirstBit(column("acme", "TOKEN", "ciphertext"))).execute());
        assertThatThrownBy(() -> s.reveal("acme", List.of("TOKEN"))).isInstanceOf(SecretCipher.WrongKey.class);
        assertThat(s.check().failures()).hasSize(3);
    }

    @Test
    void anotherKeyOpensNothingAndSaysWhichKeySealedIt() {
        db.secrets(new SecretCipher(KEY)).put("acme", "TOKEN", "acme-token-value", T0);
        assertThat(db.hasSecrets()).isTrue();
        SqlSecretStore wrong = db.secrets(new SecretCipher(OTHER_KEY));
        SqlSecretStore.Check check = wrong.check();
        assertThat(check.total()).isEqualTo(1);
        assertThat(check.failures()).singleElement().asString().contains("sealed with key " + new SecretCipher(KEY).keyId());
        assertThatThrownBy(() -> wrong.reveal("acme", List.of("TOKEN"))).isInstanceOf(SecretCipher.WrongKey.class);
        assertThatThrownBy(() -> new SecretCipher(new byte[16])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("32 bytes");
    }

    private String column(String tenant, String name, String column) {
        return db.reader().withHandle(h -> h.createQuery("SELECT " + column + " FROM secrets WHERE tenant = :t AND name = :n")
                .bind("t", tenant).bind("n", name).mapTo(String.class).one());
    }

    private static String flipFirstBit(String b64) {
        byte[] b = java.util.Base64.getDecoder().decode(b64);
        b[0] ^= 1;
        return java.util.Base64.getEncoder().encodeToString(b);
    }

    static int migrationsApplied(Database db) {
        return db.reader().withHandle(h -> h.createQuery("SELECT COUNT(*) FROM flyway_schema_history WHERE success = true")
                .mapTo(Integer.class).one());
    }

    @org.junit.jupiter.api.Test
    void toolServersArePerTenantAndComeBackParsed() {
        var store = db.toolServers();
        String fs = "{\"name\":\"fs\",\"command\":[\"node\",\"/opt/mcp/fs.js\",\"/data\"],\"resources\":{\"timeout\":\"5s\"}}";
        var at = java.time.Instant.parse("2026-01-02T03:04:05Z");
        assertThat(store.save(dev.aegis.core.ToolServer.parse("acme", fs, at))).isTrue();
        assertThat(store.save(dev.aegis.core.ToolServer.parse("acme", fs, at))).as("replaced, not new").isFalse();
        store.save(dev.aegis.core.ToolServer.parse("other", "{\"name\":\"web\",\"url\":\"http://127.0.0.1:9/mcp\"}", at));
        var got = store.find("acme", "fs").orElseThrow();
        assertThat(got.command()).containsExactly("node", "/opt/mcp/fs.js", "/data");
        assertThat(got.manifest().resources().timeout()).isEqualTo(java.time.Duration.ofSeconds(5));
        assertThat(got.createdAt()).isEqualTo(at);
        assertThat(store.list("acme")).extracting(dev.aegis.core.ToolServer::name).containsExactly("fs");
        assertThat(store.find("acme", "web")).as("another tenant's server").isEmpty();
        assertThat(store.delete("other", "fs")).isFalse();
        assertThat(store.delete("acme", "fs")).isTrue();
        assertThat(store.list("acme")).isEmpty();
    }
}
