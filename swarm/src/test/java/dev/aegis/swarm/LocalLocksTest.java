package dev.aegis.swarm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.audit.FileAuditLog;
import dev.aegis.core.AegisException;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.Locks.Acquired;
import dev.aegis.core.Locks.Holder;
import dev.aegis.core.Locks.Lease;
import dev.aegis.core.Locks.Mode;
import dev.aegis.core.Locks.Request;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The in-process lock service against the real audit log, with a clock the tests move. */
class LocalLocksTest {
    private static final Duration TTL = Duration.ofSeconds(30);
    private static final Duration LONG = Duration.ofSeconds(20);

    @TempDir
    Path dir;
    FileAuditLog audit;
    TestClock clock;
    LocalLocks locks;

    @BeforeEach
    void open() {
        audit = FileAuditLog.open(dir.resolve("audit"));
        clock = new TestClock(Instant.parse("2026-11-25T10:00:00Z"));
        locks = new LocalLocks(audit, clock, Duration.ofHours(1)); // the tests sweep themselves
    }

    @AfterEach
    void close() {
        locks.close();
        audit.close();
    }

    static Holder task(String id) {
        return new Holder("acme", id, "worker");
    }

    Acquired acquire(Holder h, String name, Mode mode, Duration timeout) {
        return locks.acquire(new Request(h, name, mode, TTL, timeout));
    }

    Lease grant(Holder h, String name, Mode mode) {
        return ((Acquired.Granted) acquire(h, name, mode, Duration.ZERO)).lease();
    }

    CompletableFuture<Acquired> inBackground(Holder h, String name, Mode mode, Duration timeout) {
        CompletableFuture<Acquired> f = new CompletableFuture<>();
        Thread.ofVirtual().start(() -> {
            try {
                f.complete(acquire(h, name, mode, timeout));
            } catch (RuntimeException e) {
                f.completeExceptionally(e);
            }
        });
        return f;
    }

    /** Waits until the audit log says {@code task} did {@code action}: the observable sign that it is queued. */
    List<AuditRecord> audited(String task, String action) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (true) {
            List<AuditRecord> found = audit.query(AuditQuery.all(1000).task(task).action(action));
            if (!found.isEmpty() || System.nanoTime() > deadline) return found;
            Thread.sleep(2);
        }
    }

    static Lease granted(CompletableFuture<Acquired> f) throws Exception {
        Acquired a = f.get(10, TimeUnit.SECONDS);
        assertThat(a).as("outcome").isInstanceOf(Acquired.Granted.class);
        return ((Acquired.Granted) a).lease();
    }

    @Test
    void exclusiveHoldsOneAtATimeAndReleaseHandsOnWithAHigherToken() throws Exception {
        Lease a = grant(task("a"), "db", Mode.EXCLUSIVE);
        assertThat(acquire(task("b"), "db", Mode.EXCLUSIVE, Duration.ZERO)).isInstanceOf(Acquired.TimedOut.class);
        CompletableFuture<Acquired> b = inBackground(task("b"), "db", Mode.EXCLUSIVE, LONG);
        assertThat(audited("b", "lock.wait")).hasSize(1);
        assertThat(b).isNotDone();
        assertThat(locks.release(task("a"), "db", a.token())).isTrue();
        Lease lb = granted(b);
        assertThat(lb.token()).isGreaterThan(a.token());
        assertThat(locks.release(task("a"), "db", a.token())).as("released twice").isFalse();
        assertThat(locks.held("acme")).extracting(Lease::token).containsExactly(lb.token());
        assertThat(audited("b", "lock.grant").getFirst().event().details()).containsEntry("token", Long.toString(lb.token()));
    }

    @Test
    void waitersAreServedFirstComeFirstServed() throws Exception {
        Lease first = grant(task("holder"), "queue", Mode.EXCLUSIVE);
        List<String> order = new CopyOnWriteArrayList<>();
        List<CompletableFuture<Void>> done = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            String id = "w" + i;
            CompletableFuture<Acquired> f = inBackground(task(id), "queue", Mode.EXCLUSIVE, LONG);
            assertThat(audited(id, "lock.wait")).hasSize(1); // queued before the next one asks
            done.add(f.thenAccept(a -> {
                Lease l = ((Acquired.Granted) a).lease();
                order.add(id);
                locks.release(task(id), "queue", l.token());
            }));
        }
        locks.release(task("holder"), "queue", first.token());
        CompletableFuture.allOf(done.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        assertThat(order).containsExactly("w0", "w1", "w2", "w3", "w4", "w5", "w6", "w7", "w8", "w9", "w10", "w11");
    }

    @Test
    void manyContendingTasksIncrementExactlyAndTokensStrictlyIncrease() throws Exception {
        int threads = 16, each = 100;
        int[] counter = {0};
        List<Long> tokens = Collections.synchronizedList(new ArrayList<>());
        List<Thread> all = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            Holder h = task("t" + t);
            all.add(Thread.ofPlatform().start(() -> {
                for (int i = 0; i < each; i++) {
                    Lease l = ((Acquired.Granted) acquire(h, "counter", Mode.EXCLUSIVE, LONG)).lease();
                    tokens.add(l.token()); // in grant order: only the holder runs here
                    int v = counter[0];
                    Thread.onSpinWait();
                    counter[0] = v + 1;
                    locks.release(h, "counter", l.token());
                }
            }));
        }
        for (Thread t : all) t.join(60_000);
        assertThat(counter[0]).isEqualTo(threads * each);
        assertThat(tokens).hasSize(threads * each).isSorted().doesNotHaveDuplicates();
        assertThat(locks.liveLocks()).isZero();
    }

    @Test
    void sharedHoldersEnterTogetherButNeverOvertakeAQueuedExclusive() throws Exception {
        Lease r1 = grant(task("r1"), "doc", Mode.SHARED);
        Lease r2 = grant(task("r2"), "doc", Mode.SHARED);
        CompletableFuture<Acquired> writer = inBackground(task("w"), "doc", Mode.EXCLUSIVE, LONG);
        audited("w", "lock.wait");
        // A reader arriving after the queued writer waits behind it, although readers hold the lock now.
        CompletableFuture<Acquired> r3 = inBackground(task("r3"), "doc", Mode.SHARED, LONG);
        CompletableFuture<Acquired> r4 = inBackground(task("r4"), "doc", Mode.SHARED, LONG);
        audited("r3", "lock.wait");
        audited("r4", "lock.wait");
        locks.release(task("r1"), "doc", r1.token());
        assertThat(writer).isNotDone();
        locks.release(task("r2"), "doc", r2.token());
        Lease w = granted(writer);
        assertThat(r3).isNotDone();
        locks.release(task("w"), "doc", w.token());
        // Both readers behind the writer get in at once.
        Lease l3 = granted(r3), l4 = granted(r4);
        assertThat(locks.held("acme")).extracting(Lease::mode).containsExactly(Mode.SHARED, Mode.SHARED);
        assertThat(List.of(l3.token(), l4.token())).allMatch(t -> t > w.token());
    }

    @Test
    void anExpiredLeaseHandsTheLockOnAndItsHolderIsFencedOut() throws Exception {
        Holder paused = task("paused");
        Lease stale = locks.acquire(new Request(paused, "file", Mode.EXCLUSIVE, Duration.ofSeconds(5), Duration.ZERO)) instanceof
                Acquired.Granted g ? g.lease() : null;
        assertThat(stale).isNotNull();
        CompletableFuture<Acquired> next = inBackground(task("next"), "file", Mode.EXCLUSIVE, LONG);
        audited("next", "lock.wait");
        clock.advance(Duration.ofSeconds(4));
        assertThat(locks.sweep()).isZero();
        assertThat(next).isNotDone();
        clock.advance(Duration.ofSeconds(2));
        assertThat(locks.sweep()).isEqualTo(1);
        Lease fresh = granted(next);
        assertThat(fresh.token()).isGreaterThan(stale.token());
        // The paused holder wakes up: its lease is gone, and a resource checking tokens refuses its write.
        FencedFile file = new FencedFile();
        assertThat(file.write(fresh.token(), "new")).isTrue();
        assertThat(file.write(stale.token(), "stale")).isFalse();
        assertThat(file.content).isEqualTo("new");
        assertThatThrownBy(() -> locks.renew(paused, "file", stale.token(), Optional.empty()))
                .isInstanceOf(AegisException.class).hasMessageContaining("no longer held")
                .extracting(e -> ((AegisException) e).code()).isEqualTo("lease_expired");
        assertThat(locks.release(paused, "file", stale.token())).isFalse();
        AuditRecord expired = audited("paused", "lock.expire").getFirst();
        assertThat(expired.event().actor()).isEqualTo("system");
        assertThat(expired.event().details()).containsEntry("token", Long.toString(stale.token()));
    }

    /** A resource that remembers the highest token it saw, as the fencing story asks of one. */
    static final class FencedFile {
        long highest;
        String content = "";

        synchronized boolean write(long token, String data) {
            if (token < highest) return false;
            highest = token;
            content = data;
            return true;
        }
    }

    @Test
    void renewalKeepsALeaseAliveAndCanChangeItsTtl() {
        Holder h = task("h");
        Lease l = locks.acquire(new Request(h, "x", Mode.EXCLUSIVE, Duration.ofSeconds(5), Duration.ZERO)) instanceof
                Acquired.Granted g ? g.lease() : null;
        for (int i = 0; i < 5; i++) {
            clock.advance(Duration.ofSeconds(4));
            assertThat(locks.renew(h, "x", l.token(), Optional.empty()).expiresAt()).isEqualTo(clock.instant().plusSeconds(5));
            assertThat(locks.sweep()).isZero();
        }
        Lease longer = locks.renew(h, "x", l.token(), Optional.of(Duration.ofMinutes(1)));
        assertThat(longer.ttl()).isEqualTo(Duration.ofMinutes(1));
        assertThat(longer.token()).as("a renewal keeps the token").isEqualTo(l.token());
        clock.advance(Duration.ofSeconds(59));
        assertThat(locks.sweep()).isZero();
        clock.advance(Duration.ofSeconds(2));
        assertThat(locks.sweep()).isEqualTo(1);
    }

    @Test
    void aWaitThatTimesOutLeavesTheQueueAndThoseBehindMoveUp() throws Exception {
        Lease a = grant(task("a"), "q", Mode.EXCLUSIVE);
        Acquired b = acquire(task("b"), "q", Mode.EXCLUSIVE, Duration.ofMillis(150));
        assertThat(b).isInstanceOf(Acquired.TimedOut.class);
        assertThat(((Acquired.TimedOut) b).waited()).isGreaterThanOrEqualTo(Duration.ofMillis(150));
        assertThat(((Acquired.TimedOut) b).heldBy()).contains("task a (agent worker) exclusive");
        assertThat(audited("b", "lock.timeout")).hasSize(1);
        // An exclusive request timing out at the head lets the shared ones behind it in.
        Lease s1 = grant(task("s1"), "r", Mode.SHARED);
        CompletableFuture<Acquired> x = inBackground(task("x"), "r", Mode.EXCLUSIVE, Duration.ofMillis(300));
        audited("x", "lock.wait");
        CompletableFuture<Acquired> s2 = inBackground(task("s2"), "r", Mode.SHARED, LONG);
        audited("s2", "lock.wait");
        assertThat(x.get(5, TimeUnit.SECONDS)).isInstanceOf(Acquired.TimedOut.class);
        granted(s2);
        locks.release(task("s1"), "r", s1.token());
        locks.release(task("a"), "q", a.token());
    }

    @Test
    void aTwoTaskCycleRefusesTheYoungestWaiterAndNamesTheCycle() throws Exception {
        Lease a1 = grant(task("A"), "L1", Mode.EXCLUSIVE);
        Lease b2 = grant(task("B"), "L2", Mode.EXCLUSIVE);
        CompletableFuture<Acquired> aWaits = inBackground(task("A"), "L2", Mode.EXCLUSIVE, LONG);
        audited("A", "lock.wait");
        Acquired b = acquire(task("B"), "L1", Mode.EXCLUSIVE, LONG);
        assertThat(b).isInstanceOf(Acquired.Deadlock.class);
        assertThat(((Acquired.Deadlock) b).cycle()).containsExactly(
                "task B (agent worker) waits for lock \"L1\" held by task A (agent worker)",
                "task A (agent worker) waits for lock \"L2\" held by task B (agent worker)");
        assertThat(audited("B", "lock.deadlock").getFirst().event().details().get("cycle")).contains("\"L1\"", "\"L2\"");
        // The refused task backs off; the older waiter then gets its lock.
        locks.release(task("B"), "L2", b2.token());
        granted(aWaits);
        locks.releaseAll("acme", "A", "test over");
        assertThat(a1.token()).isPositive();
    }

    @Test
    void aThreeTaskCycleIsFound() throws Exception {
        grant(task("A"), "x", Mode.EXCLUSIVE);
        grant(task("B"), "y", Mode.EXCLUSIVE);
        grant(task("C"), "z", Mode.EXCLUSIVE);
        CompletableFuture<Acquired> a = inBackground(task("A"), "y", Mode.EXCLUSIVE, LONG);
        audited("A", "lock.wait");
        CompletableFuture<Acquired> b = inBackground(task("B"), "z", Mode.EXCLUSIVE, LONG);
        audited("B", "lock.wait");
        Acquired c = acquire(task("C"), "x", Mode.EXCLUSIVE, LONG);
        assertThat(c).isInstanceOf(Acquired.Deadlock.class);
        assertThat(((Acquired.Deadlock) c).cycle()).hasSize(3).first().asString().startsWith("task C");
        assertThat(a).isNotDone();
        assertThat(b).isNotDone();
        // C fails and its task ends: its locks go, and the chain unwinds.
        assertThat(locks.releaseAll("acme", "C", "task failed")).isEqualTo(1);
        granted(b);
        locks.releaseAll("acme", "B", "done");
        granted(a);
    }

    @Test
    void aCycleThroughTheQueueIsADeadlockToo() throws Exception {
        // A holds y; B holds x shared; W waits for x exclusive (behind B); A asks x shared: it may not overtake W,
        // so A waits for W, W for B; B asking y would close B -> A -> W -> B.
        grant(task("A"), "y", Mode.EXCLUSIVE);
        grant(task("B"), "x", Mode.SHARED);
        CompletableFuture<Acquired> w = inBackground(task("W"), "x", Mode.EXCLUSIVE, LONG);
        audited("W", "lock.wait");
        CompletableFuture<Acquired> a = inBackground(task("A"), "x", Mode.SHARED, LONG);
        audited("A", "lock.wait");
        Acquired b = acquire(task("B"), "y", Mode.EXCLUSIVE, LONG);
        assertThat(b).isInstanceOf(Acquired.Deadlock.class);
        assertThat(String.join("; ", ((Acquired.Deadlock) b).cycle())).contains("queued behind task W");
        locks.releaseAll("acme", "B", "backed off");
        granted(w);
        locks.releaseAll("acme", "W", "done");
        granted(a);
    }

    @Test
    void theEndOfATaskReleasesItsLocksAndEndsItsWaits() throws Exception {
        grant(task("dying"), "a", Mode.EXCLUSIVE);
        grant(task("dying"), "b", Mode.SHARED);
        grant(task("other"), "c", Mode.EXCLUSIVE);
        CompletableFuture<Acquired> dyingWaits = inBackground(task("dying"), "c", Mode.EXCLUSIVE, LONG);
        audited("dying", "lock.wait");
        CompletableFuture<Acquired> next = inBackground(task("next"), "a", Mode.EXCLUSIVE, LONG);
        audited("next", "lock.wait");
        assertThat(locks.releaseAll("acme", "dying", "task failed: killed")).isEqualTo(2);
        granted(next);
        assertThat(dyingWaits.get(5, TimeUnit.SECONDS)).isInstanceOf(Acquired.TimedOut.class);
        assertThat(audited("dying", "lock.timeout").getFirst().event().details()).containsEntry("ended_by", "task failed: killed");
        assertThat(audited("dying", "lock.release")).extracting(r -> r.event().details().get("reason"))
                .containsOnly("task failed: killed");
        assertThat(locks.held("acme")).extracting(Lease::name).containsExactly("a", "c");
    }

    @Test
    void tenantsHaveSeparateLocksOfTheSameName() {
        Lease a = grant(new Holder("acme", "t1", "x"), "db", Mode.EXCLUSIVE);
        Lease b = grant(new Holder("globex", "t1", "x"), "db", Mode.EXCLUSIVE);
        assertThat(a.token()).isNotEqualTo(b.token());
        assertThat(locks.held("acme")).hasSize(1);
        assertThat(locks.held("globex")).hasSize(1);
        assertThat(locks.release(new Holder("globex", "t1", "x"), "db", a.token())).as("acme's token on globex's lock").isFalse();
    }

    @Test
    void misuseIsRefusedClearly() throws Exception {
        Lease a = grant(task("a"), "db", Mode.SHARED);
        assertThatThrownBy(() -> acquire(task("a"), "db", Mode.EXCLUSIVE, LONG))
                .hasMessageContaining("already held by this task (shared, token " + a.token() + ")");
        grant(task("b"), "other", Mode.EXCLUSIVE);
        inBackground(task("a"), "other", Mode.EXCLUSIVE, LONG);
        audited("a", "lock.wait");
        assertThatThrownBy(() -> acquire(task("a"), "other", Mode.EXCLUSIVE, LONG)).hasMessageContaining("already waiting");
        assertThatThrownBy(() -> new Request(task("a"), "x", Mode.SHARED, Duration.ZERO, LONG)).hasMessageContaining("ttl_ms");
        assertThatThrownBy(() -> Mode.fromWire("write")).hasMessageContaining("\"write\" is not a lock mode; use exclusive or shared");
        for (int i = 0; i < LocalLocks.MAX_PER_TASK - 2; i++) grant(task("a"), "n" + i, Mode.EXCLUSIVE);
        assertThatThrownBy(() -> grant(task("a"), "one-too-many", Mode.EXCLUSIVE)).hasMessageContaining("at most 64 locks");
        locks.releaseAll("acme", "a", "done");
        locks.releaseAll("acme", "b", "done");
        assertThat(locks.liveLocks()).isZero();
    }

    @Test
    void tokensStayAboveTheClockSoARestartNeverReusesOne() {
        Lease l = grant(task("a"), "db", Mode.EXCLUSIVE);
        long micros = clock.instant().getEpochSecond() * 1_000_000;
        assertThat(l.token()).isGreaterThanOrEqualTo(micros);
        // A new service (a restart) a second later starts above every token of the old one.
        try (LocalLocks restarted = new LocalLocks(audit, clock, Duration.ofHours(1))) {
            clock.advance(Duration.ofSeconds(1));
            Lease after = ((Acquired.Granted) restarted.acquire(new Request(task("b"), "db", Mode.EXCLUSIVE, TTL, Duration.ZERO))).lease();
            assertThat(after.token()).isGreaterThan(l.token());
        }
    }
}
