package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.Coordinator;
import dev.aegis.core.Delegation;
import dev.aegis.core.Task;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/** Delegation and task events end to end: parents and children are Python agents in bubblewrap sandboxes. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SwarmTasksTest {
    static final String BOSS = """
            import time
            from aegis_agent import task, result, tasks, delegate, ChildFailed, AegisError
            mode = task["mode"]
            try:
                if mode == "wait":
                    result({"child": delegate("worker", {"n": task["n"]})})
                elif mode == "fan-out":
                    kids = [delegate("worker", {"n": i}, wait=False) for i in range(task["count"])]
                    result({"sum": sum(k.result(timeout=60)["square"] for k in kids),
                            "children": [c["id"] for c in tasks.children()]})
                elif mode == "child-fails":
                    delegate("worker", {"fail": True})
                    result({"unexpected": True})
                elif mode == "nested":
                    result({"inner": delegate("boss", {"mode": "nested"})})
                elif mode == "spawn-and-die":
                    kid = delegate("worker", {"sleep": 60}, wait=False)
                    attached = delegate("worker", {"sleep": 60}, wait=False, cancel_with_parent=False)
                    print(kid.id + " " + attached.id, flush=True)
                    while tasks.get(kid.id)["state"] == "queued":
                        time.sleep(0.05)
                    raise SystemExit(5)
                elif mode == "spawn-and-wait":
                    kid = delegate("worker", {"sleep": 60}, wait=False)
                    import sys
                    sys.stderr.write("child " + kid.id + "\\n")
                    sys.stderr.flush()
                    time.sleep(60)
                elif mode == "denied":
                    delegate("stranger", {})
            except ChildFailed as e:
                result({"child_failed": e.code, "message": e.message, "child_state": e.task["state"]})
            except AegisError as e:
                result({"code": e.code, "message": e.message, "status": e.status})
            """;
    static final String WORKER = """
            import time
            from aegis_agent import task, result
            if task.get("fail"):
                raise SystemExit(3)
            time.sleep(task.get("sleep", 0))
            result({"square": task.get("n", 0) ** 2})
            """;

    @TempDir
    static Path dir;
    Node node;
    Http http;

    @BeforeAll
    void start() throws Exception {
        Coordinator.Limits limits = new Coordinator.Limits(Coordinator.Limits.DEFAULT.locks(), Coordinator.Limits.DEFAULT.bus(),
                new Delegation.Limits(3, 5, Duration.ofMinutes(2)));
        node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of())
                .withCoordination(new Node.Coordination(Optional.empty(), limits)));
        http = new Http(node.url(), node.firstAdminKey().orElseThrow());
        deploy("boss", BOSS, "permissions: {delegate: [worker, boss]}\npool: {max: 8}\n");
        deploy("worker", WORKER, "pool: {max: 8}\n");
    }

    void deploy(String name, String code, String extra) throws Exception {
        Path d = Files.createDirectories(dir.resolve("agents/" + name));
        Files.writeString(d.resolve("agent.py"), code);
        Files.writeString(d.resolve("agent.yaml"), "name: " + name + "\nversion: 1.0.0\nruntime: bubblewrap\n"
                + "entrypoint: [\"python3\", \"agent.py\"]\nresources: {timeout: 90s, memory: 128Mi}\n" + extra);
        assertThat(http.upload("/v1/agents", TarGz.pack(d)).status()).isEqualTo(201);
    }

    @AfterAll
    void stop() {
        node.close();
    }

    String submit(Map<String, Object> input) throws Exception {
        Http.Response r = http.post("/v1/tasks", Map.of("agent", "boss", "input", input));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(202);
        return r.body().path("id").asText();
    }

    JsonNode finished(String id) throws Exception {
        Task t = node.orchestrator().await("default", id, Duration.ofSeconds(120));
        assertThat(t.state().isFinal()).as("task " + id + " ended").isTrue();
        return http.get("/v1/tasks/" + id).body();
    }

    JsonNode children(String id) throws Exception {
        Http.Response r = http.get("/v1/tasks/" + id + "/children");
        assertThat(r.status()).isEqualTo(200);
        return r.body().path("children");
    }

    @Test
    void aParentWaitsForItsChildsResultAndTheTreeShowsBoth() throws Exception {
        JsonNode parent = finished(submit(Map.of("mode", "wait", "n", 7)));
        assertThat(parent.path("state").asText()).as(parent.toString()).isEqualTo("succeeded");
        assertThat(parent.path("result").path("child").path("square").asInt()).isEqualTo(49);
        JsonNode kids = children(parent.path("id").asText());
        assertThat(kids).hasSize(1);
        assertThat(kids.get(0).path("parent").asText()).isEqualTo(parent.path("id").asText());
        assertThat(kids.get(0).path("agent").asText()).isEqualTo("worker");
        assertThat(node.audit().query(AuditQuery.all(10).task(parent.path("id").asText()).action("task.delegate")))
                .singleElement().satisfies(r -> assertThat(r.event().actor()).startsWith("agent:i-"));
        CliTest.Run tree = CliTest.aegis("tasks", "tree", parent.path("id").asText(), "--url", node.url(), "--key",
                node.firstAdminKey().orElseThrow());
        assertThat(tree.code()).as(tree.err()).isZero();
        assertThat(tree.out()).startsWith(parent.path("id").asText() + "  boss  succeeded")
                .contains("└── " + kids.get(0).path("id").asText() + "  worker  succeeded");
    }

    @Test
    void aParentFansOutWithoutWaitingAndCollectsEveryResult() throws Exception {
        JsonNode parent = finished(submit(Map.of("mode", "fan-out", "count", 4)));
        assertThat(parent.path("state").asText()).as(parent.toString()).isEqualTo("succeeded");
        assertThat(parent.path("result").path("sum").asInt()).isEqualTo(0 + 1 + 4 + 9);
        assertThat(parent.path("result").path("children")).hasSize(4);
        assertThat(children(parent.path("id").asText())).hasSize(4);
    }

    @Test
    void aChildsFailureReachesItsParentAsAnError() throws Exception {
        JsonNode r = finished(submit(Map.of("mode", "child-fails"))).path("result");
        assertThat(r.path("child_failed").asText()).isEqualTo("exit_code");
        assertThat(r.path("child_state").asText()).isEqualTo("failed");
        assertThat(r.path("message").asText()).contains("(worker) failed: agent exited with code 3");
    }

    @Test
    void depthAndFanOutAreLimitedByTheOperator() throws Exception {
        // boss -> boss -> boss -> boss: the operator allows three levels below the root, so the third child's own
        // delegate call is refused and the refusal travels up as each parent's child failure.
        JsonNode root = finished(submit(Map.of("mode", "nested")));
        String id = root.path("id").asText();
        int depth = 0;
        for (JsonNode level = root; ; depth++) {
            JsonNode kids = children(level.path("id").asText());
            if (kids.isEmpty()) {
                assertThat(level.path("result").path("code").asText()).as(level.toString()).isEqualTo("limit_exceeded");
                assertThat(level.path("result").path("message").asText()).contains("4 levels below its root task; the operator allows 3");
                assertThat(level.path("result").path("status").asInt()).isEqualTo(422);
                break;
            }
            level = http.get("/v1/tasks/" + kids.get(0).path("id").asText()).body();
        }
        assertThat(depth).isEqualTo(3);
        assertThat(id).isNotBlank();
        JsonNode many = finished(submit(Map.of("mode", "fan-out", "count", 6))).path("result");
        assertThat(many.path("code").asText()).isEqualTo("limit_exceeded");
        assertThat(many.path("message").asText()).contains("already started 5 children; the operator allows 5 per task");
    }

    @Test
    void agentsOutsideTheManifestAreRefused() throws Exception {
        deploy("stranger", WORKER, "");
        String id = submit(Map.of("mode", "denied"));
        JsonNode r = finished(id).path("result");
        assertThat(r.path("code").asText()).isEqualTo("policy_denied");
        assertThat(r.path("message").asText()).contains("delegating to agent \"stranger\" denied; the manifest grants delegate worker, boss");
        assertThat(node.audit().query(AuditQuery.all(10).task(id).action("policy.delegate"))).hasSize(1);
        assertThat(children(id)).isEmpty();
        // Without permissions.delegate an agent delegates to nobody.
        Path d = Files.createDirectories(dir.resolve("agents/lonely"));
        Files.writeString(d.resolve("agent.py"), BOSS);
        Files.writeString(d.resolve("agent.yaml"), "name: lonely\nversion: 1.0.0\nruntime: bubblewrap\nentrypoint: [\"python3\", \"agent.py\"]\n");
        assertThat(http.upload("/v1/agents", TarGz.pack(d)).status()).isEqualTo(201);
        String lonely = http.post("/v1/tasks", Map.of("agent", "lonely", "input", Map.of("mode", "wait", "n", 1), "wait", true))
                .body().path("id").asText();
        assertThat(finished(lonely).path("result").path("message").asText())
                .contains("delegating to agent \"worker\" denied; the manifest grants no delegate");
    }

    @Test
    void whenAParentFailsItsAttachedChildrenAreCancelledAndDetachedOnesRunOn() throws Exception {
        JsonNode parent = finished(submit(Map.of("mode", "spawn-and-die")));
        assertThat(parent.path("state").asText()).isEqualTo("failed");
        JsonNode kids = children(parent.path("id").asText());
        assertThat(kids).hasSize(2);
        Task attached = node.orchestrator().await("default", kids.get(0).path("id").asText(), Duration.ofSeconds(30));
        assertThat(attached.state().name()).isEqualTo("CANCELLED");
        Task detached = node.orchestrator().task("default", kids.get(1).path("id").asText());
        assertThat(detached.state().isFinal()).as("the detached child still runs").isFalse();
        assertThat(node.audit().query(AuditQuery.all(10).task(attached.id()).action("task.cascade"))).hasSize(1);
        node.orchestrator().cancel("default", detached.id());
    }

    @Test
    void cancellingAParentCancelsItsChildren() throws Exception {
        String parent = submit(Map.of("mode", "spawn-and-wait"));
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        JsonNode kids;
        do {
            Thread.sleep(50);
            kids = children(parent);
        } while ((kids.isEmpty() || !kids.get(0).path("state").asText().equals("running")) && System.nanoTime() < deadline);
        assertThat(http.post("/v1/tasks/" + parent + "/cancel", Map.of()).body().path("state").asText()).isEqualTo("cancelled");
        Task child = node.orchestrator().await("default", kids.get(0).path("id").asText(), Duration.ofSeconds(30));
        assertThat(child.state().name()).isEqualTo("CANCELLED");
    }

    /** Every lifecycle step of every task is on the bus; clients read them as server-sent events, tenant by tenant. */
    @Test
    void taskEventsStreamToClientsOfTheirTenantOnly() throws Exception {
        JsonNode parent = finished(submit(Map.of("mode", "child-fails")));
        String id = parent.path("id").asText();
        String child = children(id).get(0).path("id").asText();
        List<JsonNode> events = sse(http, "/v1/events?after=0&follow=false&subject=aegis.tasks.*." + child + ".%3E");
        assertThat(events).extracting(e -> e.path("lifecycle").asText()).containsExactly("cold", "warm", "hot", "failed");
        JsonNode last = events.getLast();
        assertThat(last.path("state").asText()).isEqualTo("failed");
        assertThat(last.path("error").path("code").asText()).isEqualTo("exit_code");
        assertThat(last.path("parent").asText()).isEqualTo(id);
        assertThat(last.path("subject").asText()).isEqualTo("aegis.tasks.worker." + child + ".failed");
        assertThat(events).extracting(e -> e.path("seq").asLong()).isSorted();
        // Resuming after the second event gives the rest: at least once, from where the client was.
        List<JsonNode> rest = sse(http, "/v1/events?follow=false&subject=aegis.tasks.*." + child + ".%3E", events.get(1).path("seq").asText());
        assertThat(rest).extracting(e -> e.path("lifecycle").asText()).containsExactly("hot", "failed");
        // Another tenant sees none of it, whatever it asks for.
        Http acme = new Http(node.url(), http.post("/v1/keys", Map.of("tenant", "acme", "role", "reader")).body().path("key").asText());
        assertThat(sse(acme, "/v1/events?after=0&follow=false&subject=aegis.%3E", null)).isEmpty();
        List<JsonNode> bad = sseRaw(http, "/v1/events?subject=orders.%3E", null);
        assertThat(bad.getFirst().path("code").asText()).isEqualTo("invalid_request");
    }

    List<JsonNode> sse(Http client, String path) throws Exception {
        return sse(client, path, null);
    }

    List<JsonNode> sse(Http client, String path, String lastEventId) throws Exception {
        List<JsonNode> all = sseRaw(client, path, lastEventId);
        for (JsonNode e : all) assertThat(e.has("code")).as("no error event: " + e).isFalse();
        return all;
    }

    /** The data of each event of a stream that ends by itself ({@code follow=false}). */
    static List<JsonNode> sseRaw(Http client, String path, String lastEventId) throws Exception {
        HttpRequest.Builder b = client.builder(path).header("Accept", "text/event-stream").GET();
        if (lastEventId != null) b.header("Last-Event-ID", lastEventId);
        HttpResponse<java.io.InputStream> r = client.client().send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(r.statusCode()).isEqualTo(200);
        List<JsonNode> out = new ArrayList<>();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(r.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; )
                if (line.startsWith("data:")) out.add(Http.JSON.readTree(line.substring(5)));
        }
        return out;
    }
}
