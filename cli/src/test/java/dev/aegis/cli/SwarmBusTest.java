package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.Bus;
import dev.aegis.core.Task;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** The bus end to end, with locks: Python agents in bubblewrap sandboxes talk over the agent socket. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SwarmBusTest {
    static final String AGENT = """
            import time
            from aegis_agent import task, result, lock, bus, AegisError, Overflow
            mode = task["mode"]
            if mode == "increment":
                for _ in range(task["times"]):
                    with lock("counter", timeout=60) as token:
                        value = bus.request("store.get", {}, timeout=10)["value"]
                        answer = bus.request("store.put", {"value": value + 1, "token": token}, timeout=10)
                        assert answer["ok"], answer
                result({"done": task["times"]})
            elif mode == "listen":
                with bus.subscribe(task["subject"], buffer=task.get("buffer", 64)) as sub:
                    bus.publish("ready", {"sub": sub.id})
                    time.sleep(task.get("sleep", 0))
                    got = []
                    while len(got) < task["count"]:
                        d = sub.next(timeout=10)
                        if d is None:
                            break
                        got.append({"overflow": d.dropped} if isinstance(d, Overflow) else {"subject": d.subject, "data": d.data})
                result({"got": got})
            elif mode == "try":
                try:
                    if task["verb"] == "publish":
                        bus.publish(task["subject"], {"x": 1})
                    elif task["verb"] == "request":
                        bus.request(task["subject"], {}, timeout=0.3)
                    else:
                        bus.subscribe(task["subject"])
                    result({"code": "none"})
                except AegisError as e:
                    result({"code": e.code, "status": e.status, "message": e.message})
            """;

    @TempDir
    static Path dir;
    Node node;
    Http http;

    /** The in-process bus; {@link SwarmBusNatsTest} runs the same cases on NATS. */
    Node.Config config(Path data) {
        return Node.Config.embedded(data).withApi("127.0.0.1", 0, List.of());
    }

    @BeforeAll
    void start() throws Exception {
        node = new Node(config(dir.resolve("data")));
        http = new Http(node.url(), node.firstAdminKey().orElseThrow());
        Path d = Files.createDirectories(dir.resolve("agents/talker"));
        Files.writeString(d.resolve("agent.py"), AGENT);
        Files.writeString(d.resolve("agent.yaml"), """
                name: talker
                version: 1.0.0
                runtime: bubblewrap
                entrypoint: ["python3", "agent.py"]
                resources: {timeout: 90s, memory: 128Mi}
                permissions:
                  locks: ["counter"]
                  bus: {publish: ["store.*", "ready", "chat.>"], subscribe: ["chat.>", "firehose"]}
                pool: {max: 8}
                """);
        assertThat(http.upload("/v1/agents", TarGz.pack(d)).status()).isEqualTo(201);
    }

    @AfterAll
    void stop() {
        node.close();
    }

    String submit(Map<String, Object> input) throws Exception {
        Http.Response r = http.post("/v1/tasks", Map.of("agent", "talker", "input", input));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(202);
        return r.body().path("id").asText();
    }

    JsonNode finished(String id) throws Exception {
        Task t = node.orchestrator().await("default", id, Duration.ofSeconds(120));
        assertThat(t.state().isFinal()).as("task " + id + " ended").isTrue();
        return http.get("/v1/tasks/" + id).body();
    }

    static byte[] json(Object o) throws Exception {
        return Http.JSON.writeValueAsBytes(o);
    }

    /**
     * The linearizability check: concurrent agents each increment a counter held by a store that
     * refuses stale fencing tokens; under the lock, no increment is lost and every write carries a newer token.
     */
    @Test
    void concurrentIncrementsUnderTheLockLoseNothingAndTokensOnlyRise() throws Exception {
        int[] value = {0};
        List<Long> tokens = Collections.synchronizedList(new ArrayList<>());
        List<String> refused = Collections.synchronizedList(new ArrayList<>());
        Bus bus = node.bus();
        try (Bus.Subscription store = bus.subscribe("default", "store.*", 1000)) {
            Thread server = Thread.ofVirtual().start(() -> {
                long highest = 0;
                try {
                    while (!Thread.currentThread().isInterrupted()) {
                        Optional<Bus.Delivery> d = store.next(Duration.ofSeconds(1));
                        if (d.isEmpty() || !(d.get() instanceof Bus.Message m)) continue;
                        JsonNode req = Http.JSON.readTree(m.payload());
                        Object answer;
                        if (m.subject().equals("store.get")) answer = Map.of("value", value[0]);
                        else if (req.path("token").asLong() < highest) {
                            refused.add(req.toString());
                            answer = Map.of("ok", false);
                        } else {
                            highest = req.path("token").asLong();
                            tokens.add(highest);
                            value[0] = req.path("value").asInt();
                            answer = Map.of("ok", true);
                        }
                        bus.publish("default", m.replyTo().orElseThrow(), json(answer), Optional.empty());
                    }
                } catch (Exception e) {
                    // interrupted: test over
                }
            });
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 6; i++) ids.add(submit(Map.of("mode", "increment", "times", 5)));
            for (String id : ids) assertThat(finished(id).path("state").asText()).as(id).isEqualTo("succeeded");
            server.interrupt();
        }
        assertThat(value[0]).isEqualTo(30);
        assertThat(refused).isEmpty();
        assertThat(tokens).hasSize(30).isSorted().doesNotHaveDuplicates();
    }

    @Test
    void anAgentReceivesWhatItSubscribedToAndNothingOfAnotherTenant() throws Exception {
        Bus bus = node.bus();
        try (Bus.Subscription ready = bus.subscribe("default", "ready", 10);
             Bus.Subscription acmeAll = bus.subscribe("acme", ">", 100)) {
            String id = submit(Map.of("mode", "listen", "subject", "chat.>", "count", 3));
            assertThat(ready.next(Duration.ofSeconds(30))).as("the agent subscribed").isPresent();
            bus.publish("acme", "chat.room1", json(Map.of("text", "acme's")), Optional.empty());
            bus.publish("default", "chat.room1", json(Map.of("text", "one")), Optional.empty());
            bus.publish("default", "other", json(Map.of("text", "not subscribed")), Optional.empty());
            bus.publish("default", "chat.room2.thread", json(Map.of("text", "two")), Optional.empty());
            bus.publish("default", "chat.room1", json("three"), Optional.empty());
            JsonNode got = finished(id).path("result").path("got");
            assertThat(got.toString()).isEqualTo("[{\"subject\":\"chat.room1\",\"data\":{\"text\":\"one\"}},"
                    + "{\"subject\":\"chat.room2.thread\",\"data\":{\"text\":\"two\"}},{\"subject\":\"chat.room1\",\"data\":\"three\"}]");
            // What the agent published stayed in its tenant.
            List<String> seenByAcme = new ArrayList<>();
            for (Optional<Bus.Delivery> d; (d = acmeAll.next(Duration.ofMillis(200))).isPresent(); )
                seenByAcme.add(((Bus.Message) d.get()).subject());
            assertThat(seenByAcme).containsExactly("chat.room1");
            AuditRecord sub = node.audit().query(AuditQuery.all(10).task(id).action("bus.subscribe")).getFirst();
            assertThat(sub.event().target()).isEqualTo("subject:chat.>");
            assertThat(node.audit().query(AuditQuery.all(10).task(id).action("bus.publish")).getFirst().event().target())
                    .isEqualTo("subject:ready");
        }
    }

    @Test
    void aSlowAgentGetsAnOverflowSignalNotUnboundedMemory() throws Exception {
        Bus bus = node.bus();
        try (Bus.Subscription ready = bus.subscribe("default", "ready", 10)) {
            String id = submit(Map.of("mode", "listen", "subject", "firehose", "count", 3, "buffer", 2, "sleep", 1.0));
            assertThat(ready.next(Duration.ofSeconds(30))).isPresent();
            for (int i = 0; i < 10; i++) bus.publish("default", "firehose", json(i), Optional.empty());
            assertThat(finished(id).path("result").path("got").toString())
                    .isEqualTo("[{\"overflow\":8},{\"subject\":\"firehose\",\"data\":0},{\"subject\":\"firehose\",\"data\":1}]");
        }
    }

    @Test
    void subjectsOutsideTheManifestOrReservedAreRefusedAndAudited() throws Exception {
        record Case(String verb, String subject, String code, String fragment) {}
        for (Case c : List.of(
                new Case("publish", "orders.created", "policy_denied", "publish on \"orders.created\" denied; the manifest grants bus publish store.*, ready, chat.>"),
                new Case("publish", "aegis.tasks.talker.x.ended", "policy_denied", "aegis.* subjects carry AEGIS's task events"),
                new Case("subscribe", "chat", "policy_denied", "subscribe to \"chat\" denied"),
                new Case("subscribe", ">", "policy_denied", "subscribe to \">\" denied"),
                new Case("subscribe", "_inbox.>", "invalid_request", "is a reply subject"),
                new Case("publish", "chat.>", "invalid_request", "subject: \"chat.>\" is not a subject"),
                new Case("publish", "_inbox.a.b", "invalid_request", "is not a reply subject"),
                new Case("request", "store.nobody", "timeout", "no reply on \"store.nobody\" within 300 ms"))) {
            String id = submit(Map.of("mode", "try", "verb", c.verb(), "subject", c.subject()));
            JsonNode r = finished(id).path("result");
            assertThat(r.path("code").asText()).as(c.toString()).isEqualTo(c.code());
            assertThat(r.path("message").asText()).as(c.toString()).contains(c.fragment());
            if (c.code().equals("policy_denied")) {
                AuditRecord denied = node.audit().query(AuditQuery.all(10).task(id).action("policy.bus")).getFirst();
                assertThat(denied.event().decision().wire()).isEqualTo("deny");
                assertThat(denied.event().details()).containsEntry("verb", c.verb());
            }
            if (c.code().equals("timeout")) assertThat(r.path("status").asInt()).isEqualTo(504);
        }
    }
}
