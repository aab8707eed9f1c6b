package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.Bus;
import dev.aegis.core.HostFolders;
import dev.aegis.core.Task;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Locks end to end: Python agents in real bubblewrap sandboxes, through the agent socket and aegis_agent. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SwarmLocksTest {
    static final String AGENT = """
            import json, os, sys, time
            from aegis_agent import task, result, lock, locks, AegisError
            mode = task["mode"]
            if mode == "hold":
                with lock(task["name"], timeout=60) as token:
                    start = time.time()
                    time.sleep(task.get("hold", 0.2))
                    end = time.time()
                result({"token": token, "start": start, "end": end})
            elif mode == "by-hand":
                held = lock(task["name"], mode="shared", ttl=1)
                time.sleep(1.5)  # longer than the ttl: the heartbeat keeps it
                renewed = not held.lost
                result({"released": held.release(), "again": held.release(), "renewed": renewed})
            elif mode == "denied":
                try:
                    lock(task["name"])
                    result({"code": "none"})
                except AegisError as e:
                    result({"code": e.code, "message": e.message, "status": e.status})
            elif mode == "die":
                held = lock(task["name"], ttl=120)
                sys.stderr.write("holding %d\\n" % held.token)
                sys.stderr.flush()
                time.sleep(task.get("sleep", 0))
                os._exit(3)
            elif mode == "ring":
                from aegis_agent import bus
                with bus.subscribe("sync.go." + task["tag"]) as go:
                    with lock(task["first"], timeout=30):
                        bus.publish("sync.held", {"tag": task["tag"]})
                        go.next(timeout=60)
                        try:
                            with lock(task["second"], timeout=60):
                                outcome = {"code": "granted"}
                        except AegisError as e:
                            outcome = {"code": e.code, "message": e.message}
                result(outcome)
            elif mode == "file-counter":
                for _ in range(task["times"]):
                    with lock("counter", timeout=60) as token:
                        with open("/shared/counter.txt") as f:
                            value = int(f.read() or "0")
                        time.sleep(0.001)  # widen the read-modify-write window: without the lock, updates would be lost
                        with open("/shared/counter.txt", "w") as f:
                            f.write(str(value + 1))
                        with open("/shared/tokens.log", "a") as f:
                            f.write("%d\\n" % token)
                result({"done": task["times"]})
            elif mode == "try":
                got = locks.try_acquire(task["name"], timeout=task.get("timeout", 0.2))
                result({"got": got is not None})
            """;

    @TempDir
    static Path dir;
    Node node;
    Http http;
    Path shared;

    @BeforeAll
    void start() throws Exception {
        shared = Files.createDirectories(dir.resolve("shared"));
        Files.writeString(shared.resolve("counter.txt"), "0");
        Files.writeString(shared.resolve("tokens.log"), "");
        Node.Config config = Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of());
        node = new Node(config.withSecurity(config.security().withFolders(
                List.of(HostFolders.Approved.parse(shared + "=/shared", true)))));
        http = new Http(node.url(), node.firstAdminKey().orElseThrow());
        Path d = Files.createDirectories(dir.resolve("agents/locker"));
        Files.writeString(d.resolve("agent.py"), AGENT);
        Files.writeString(d.resolve("agent.yaml"), """
                name: locker
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["python3", "agent.py"]
                resources: {timeout: 60s, memory: 128Mi}
                permissions:
                  locks: ["counter", "jobs/*"]
                  bus: {publish: ["sync.held"], subscribe: ["sync.go.*"]}
                  filesystem: {write: ["/shared"]}
                pool: {max: 8}
                """);
        assertThat(http.upload("/v1/agents", TarGz.pack(d)).status()).isEqualTo(201);
    }

    @AfterAll
    void stop() {
        node.close();
    }

    String submit(Map<String, Object> input) throws Exception {
        Http.Response r = http.post("/v1/tasks", Map.of("agent", "locker", "input", input));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(202);
        return r.body().path("id").asText();
    }

    JsonNode run(Map<String, Object> input) throws Exception {
        return finished(submit(input));
    }

    JsonNode finished(String id) throws Exception {
        Task t = node.orchestrator().await("default", id, Duration.ofSeconds(90));
        assertThat(t.state().isFinal()).as("task " + id + " ended").isTrue();
        return http.get("/v1/tasks/" + id).body();
    }

    List<AuditRecord> audit(String task, String action) {
        return node.audit().query(AuditQuery.all(1000).task(task).action(action));
    }

    @Test
    void concurrentSandboxesHoldTheLockOneAfterAnotherWithRisingTokens() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) ids.add(submit(Map.of("mode", "hold", "name", "counter", "hold", 0.25)));
        List<JsonNode> results = new ArrayList<>();
        for (String id : ids) {
            JsonNode t = finished(id);
            assertThat(t.path("state").asText()).as(t.toString()).isEqualTo("succeeded");
            results.add(t.path("result"));
        }
        results.sort(Comparator.comparingDouble(r -> r.path("start").asDouble()));
        for (int i = 1; i < results.size(); i++) {
            assertThat(results.get(i).path("start").asDouble()).as("hold %d starts after hold %d ended", i, i - 1)
                    .isGreaterThanOrEqualTo(results.get(i - 1).path("end").asDouble());
            assertThat(results.get(i).path("token").asLong()).isGreaterThan(results.get(i - 1).path("token").asLong());
        }
        // Some had to wait, and the log says so with the instance as the actor.
        long waits = ids.stream().mapToLong(id -> audit(id, "lock.wait").size()).sum();
        assertThat(waits).isPositive();
        AuditRecord grant = audit(ids.getFirst(), "lock.grant").getFirst();
        assertThat(grant.event().actor()).startsWith("agent:i-");
        assertThat(grant.event().target()).isEqualTo("lock:counter");
        assertThat(audit(ids.getFirst(), "lock.release")).hasSize(1);
    }

    /** The check, on a real shared file: concurrent sandboxes increment it under the lock and lose nothing. */
    @Test
    void concurrentSandboxesIncrementASharedFileExactlyUnderTheLock() throws Exception {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 6; i++) ids.add(submit(Map.of("mode", "file-counter", "times", 10)));
        for (String id : ids) assertThat(finished(id).path("state").asText()).as(id).isEqualTo("succeeded");
        assertThat(Files.readString(shared.resolve("counter.txt"))).isEqualTo("60");
        List<Long> tokens = Files.readAllLines(shared.resolve("tokens.log")).stream().map(Long::parseLong).toList();
        assertThat(tokens).hasSize(60).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void theSeedsByHandStyleWorksAndTheHeartbeatKeepsTheLease() throws Exception {
        JsonNode t = run(Map.of("mode", "by-hand", "name", "jobs/42"));
        assertThat(t.path("state").asText()).as(t.toString()).isEqualTo("succeeded");
        assertThat(t.path("result").path("renewed").asBoolean()).isTrue();
        assertThat(t.path("result").path("released").asBoolean()).isTrue();
        assertThat(t.path("result").path("again").asBoolean()).as("a second release finds nothing").isFalse();
        assertThat(audit(t.path("id").asText(), "lock.renew")).isNotEmpty();
        assertThat(audit(t.path("id").asText(), "lock.expire")).isEmpty();
    }

    @Test
    void namesOutsideTheManifestAreDeniedAndAudited() throws Exception {
        for (String name : List.of("payroll", "jobs", "counter/x")) {
            JsonNode t = run(Map.of("mode", "denied", "name", name));
            assertThat(t.path("result").path("code").asText()).as(name).isEqualTo("policy_denied");
            assertThat(t.path("result").path("status").asInt()).isEqualTo(403);
            assertThat(t.path("result").path("message").asText()).contains("\"" + name + "\"").contains("counter, jobs/*");
            AuditRecord denied = audit(t.path("id").asText(), "policy.lock").getFirst();
            assertThat(denied.event().decision().wire()).isEqualTo("deny");
            assertThat(denied.event().target()).isEqualTo("lock:" + name);
        }
        JsonNode bad = run(Map.of("mode", "denied", "name", "jobs/a b"));
        assertThat(bad.path("result").path("code").asText()).isEqualTo("invalid_request");
        assertThat(bad.path("result").path("message").asText()).contains("name: \"jobs/a b\" is not a lock name");
        // Malformed calls leave a trace too.
        AuditRecord refused = audit(bad.path("id").asText(), "agent.refused").getFirst();
        assertThat(refused.event().target()).isEqualTo("call:locks.acquire");
        assertThat(refused.event().details()).containsEntry("code", "invalid_request");
    }

    /**
     * N agents in a ring each hold one lock and then ask for the next one's: the last to ask closes the cycle and
     * is refused with it named; it gives its lock back, and the others then finish.
     */
    @ParameterizedTest(name = "a ring of {0} agents")
    @ValueSource(ints = {2, 3})
    void aDeadlockBetweenSandboxesIsRefusedToTheYoungestWaiter(int n) throws Exception {
        String ring = "ring" + n;
        List<String> ids = new ArrayList<>();
        try (Bus.Subscription held = node.bus().subscribe("default", "sync.held", 16)) {
            for (int i = 0; i < n; i++) {
                ids.add(submit(Map.of("mode", "ring", "tag", ring + "-" + i, "first", "jobs/" + ring + "/" + i,
                        "second", "jobs/" + ring + "/" + ((i + 1) % n))));
                assertThat(held.next(Duration.ofSeconds(60))).as("agent %d holds its first lock", i).isPresent();
            }
        }
        for (int i = 0; i < n; i++) {
            node.bus().publish("default", "sync.go." + ring + "-" + i, "{}".getBytes(), java.util.Optional.empty());
            if (i < n - 1) {
                long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
                while (audit(ids.get(i), "lock.wait").isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
                assertThat(audit(ids.get(i), "lock.wait")).as("agent %d waits", i).isNotEmpty();
            }
        }
        JsonNode refused = finished(ids.getLast()).path("result");
        assertThat(refused.path("code").asText()).isEqualTo("deadlock");
        assertThat(refused.path("message").asText()).contains("would deadlock")
                .contains("task " + ids.getLast()).contains("task " + ids.getFirst())
                .contains("\"jobs/" + ring + "/0\"");
        assertThat(refused.path("message").asText().split("waits for lock")).hasSize(n + 1);
        assertThat(audit(ids.getLast(), "lock.deadlock")).hasSize(1);
        for (String id : ids.subList(0, n - 1))
            assertThat(finished(id).path("result").path("code").asText()).as(id).isEqualTo("granted");
    }

    @Test
    void aTaskThatDiesOrIsCancelledReleasesItsLocksAtOnce() throws Exception {
        JsonNode died = run(Map.of("mode", "die", "name", "jobs/crash"));
        assertThat(died.path("state").asText()).isEqualTo("failed");
        assertThat(died.path("error").path("code").asText()).isEqualTo("exit_code");
        AuditRecord released = audit(died.path("id").asText(), "lock.release").getFirst();
        assertThat(released.event().details()).containsEntry("reason", "task failed");
        // The lease had two minutes left; the next task gets the lock without waiting for it.
        assertThat(run(Map.of("mode", "try", "name", "jobs/crash")).path("result").path("got").asBoolean()).isTrue();

        String holding = submit(Map.of("mode", "die", "name", "jobs/cancel", "sleep", 60));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (audit(holding, "lock.grant").isEmpty() && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(run(Map.of("mode", "try", "name", "jobs/cancel")).path("result").path("got").asBoolean()).isFalse();
        assertThat(http.post("/v1/tasks/" + holding + "/cancel", Map.of()).body().path("state").asText()).isEqualTo("cancelled");
        assertThat(audit(holding, "lock.release").getFirst().event().details()).containsEntry("reason", "task cancelled");
        assertThat(run(Map.of("mode", "try", "name", "jobs/cancel")).path("result").path("got").asBoolean()).isTrue();
    }
}
