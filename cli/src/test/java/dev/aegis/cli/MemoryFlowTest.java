package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Memory end to end on a real node: agents in bubblewrap sandboxes query and store through {@code aegis_agent.memory}
 * as their manifests allow, finished tasks are indexed on their own, and clients search, rate and delete over REST
 * and the CLI. Bad input is refused with the field named, from the sandbox and from clients.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class MemoryFlowTest {
    @TempDir
    static Path dir;
    Node node;
    String key;
    Http http;

    private static final String TRY = """
            import json, os
            from aegis_agent import task, result, log, memory, call, AegisError
            def attempt(f):
                try:
                    return f()
                except AegisError as e:
                    return {"error": e.code, "status": e.status, "message": e.message}
            """;

    @BeforeAll
    void start() {
        node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()));
        key = node.firstAdminKey().orElseThrow();
        http = new Http(node.url(), key);
    }

    @AfterAll
    void stop() {
        node.close();
    }

    private void deploy(String name, String permissions, String code) throws Exception {
        Path d = Files.createDirectories(dir.resolve("agents").resolve(name));
        Files.writeString(d.resolve("agent.yaml"), "name: " + name + "\nversion: 1.0.0\nruntime: bubblewrap\nentrypoint: [\"python3\", \"agent.py\"]\n"
                + "resources: {cpu: 0.5, memory: 256Mi, pids: 16, disk: 8Mi, timeout: 60s}\n"
                + (permissions.isEmpty() ? "" : "permissions: {" + permissions + "}\n"));
        Files.writeString(d.resolve("agent.py"), TRY + code);
        Http.Response r = http.upload("/v1/agents", TarGz.pack(d));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
    }

    private JsonNode run(String agent, Map<String, Object> input) throws Exception {
        JsonNode t = http.post("/v1/tasks", Map.of("agent", agent, "wait", true, "input", input)).body();
        if (!t.path("state").asText().equals("succeeded"))
            assertThat(t.path("state").asText()).as(t + "\nlogs: " + http.get("/v1/tasks/" + t.path("id").asText() + "/logs").body())
                    .isEqualTo("succeeded");
        return t;
    }

    private void indexed() throws InterruptedException {
        assertThat(node.memory().awaitIndexed(Duration.ofMinutes(2))).as("indexing finished").isTrue();
    }

    @Test
    void agentsUseTheirMemoryAsTheirManifestsAllowInTheirNamespace() throws Exception {
        deploy("scribe", "memory: read-write", """
                stored = attempt(lambda: memory.store(task["note"], tags=["ops"]))
                log("the nightly export to the warehouse failed: table quota exceeded in project data-prod")
                found = attempt(lambda: memory.query(task["ask"], limit=3))
                result({"stored": stored, "found": found})
                """);
        deploy("reader", "memory: read", """
                result({"stored": attempt(lambda: memory.store("readers cannot write")),
                        "found": attempt(lambda: memory.query("the nightly warehouse export"))})
                """);
        deploy("blind", "", """
                result({"found": attempt(lambda: memory.query("anything"))})
                """);
        deploy("team-a", "memory: read-write, memory_namespace: ops-team", """
                log("the staging database password is rotated every Tuesday at 09:00 UTC by the vault job")
                result({"ok": True})
                """);
        deploy("team-b", "memory: read, memory_namespace: ops-team", """
                result({"found": attempt(lambda: memory.query("when does the staging db credential change", limit=3))})
                """);

        // 1. A read-write agent stores a note and finds it in the same task: a store is durable and searchable on return.
        JsonNode first = run("scribe", Map.of("note", "Runbook: when the warehouse export fails on quota, delete snapshots older than 30 days in data-prod.",
                "ask", "what to do when the warehouse export fails"));
        assertThat(first.path("result").path("stored").path("id").asText()).as(first.toString()).isNotBlank();
        assertThat(first.path("result").path("found").path("hits").get(0).path("text").asText()).contains("delete snapshots older than 30 days");

        // 2. After the task, its logs are indexed on their own: a second run in a fresh sandbox finds what the first logged.
        indexed();
        JsonNode second = run("scribe", Map.of("note", "Second run's note.", "ask", "why did the nightly warehouse export break"));
        JsonNode hits = second.path("result").path("found").path("hits");
        assertThat(hits.toString()).contains("table quota exceeded");
        assertThat(hits.findValuesAsText("task")).contains(first.path("id").asText());

        // 3. read may query but not store; no grant may do neither. Both are refused as policy, and audited.
        JsonNode reader = run("reader", Map.of()).path("result");
        assertThat(reader.path("stored").path("error").asText()).isEqualTo("policy_denied");
        assertThat(reader.path("stored").path("message").asText()).contains("memory read-write denied; the manifest grants memory: read");
        assertThat(reader.path("found").path("hits").isArray()).as(reader.toString()).isTrue();
        assertThat(reader.path("found").toString()).as("namespaces: the reader sees none of the scribe's memories").doesNotContain("warehouse");
        JsonNode blind = run("blind", Map.of()).path("result");
        assertThat(blind.path("found").path("status").asInt()).isEqualTo(403);
        assertThat(blind.path("found").path("message").asText()).contains("memory read denied; the manifest grants memory: none");
        List<AuditRecord> stores = node.audit().query(AuditQuery.all(1000).action("memory.store"));
        assertThat(stores).anySatisfy(r -> {
            assertThat(r.event().decision().name()).isEqualTo("DENY");
            assertThat(r.event().agent()).contains("reader");
        });
        assertThat(node.audit().query(AuditQuery.all(1000).action("memory.query")).stream().map(r -> r.event().decision().name()))
                .contains("ALLOW", "DENY");

        // 4. A shared namespace: what team-a's task left behind, team-b finds; the scribe does not see it.
        run("team-a", Map.of());
        indexed();
        JsonNode shared = run("team-b", Map.of()).path("result").path("found").path("hits");
        assertThat(shared.toString()).contains("rotated every Tuesday");
        assertThat(shared.findValuesAsText("agent")).containsOnly("ops-team");
        assertThat(http.get("/v1/memory/stats").body().path("by_agent").has("team-a")).as("stored under the namespace, not the agent").isFalse();
        JsonNode scribe = run("scribe", Map.of("note", "Third run's note.", "ask", "staging database password rotation"));
        assertThat(scribe.path("result").path("found").toString()).doesNotContain("Tuesday");
    }

    /** What {@code aegis demo} shows, with the bundled example: run 2 finds the fix that run 1 only logged. */
    @Test
    void theOncallExampleFindsInItsSecondRunWhatItsFirstRunLearned() throws Exception {
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        assertThat(http.upload("/v1/agents", TarGz.pack(examples.resolve("oncall"))).status()).isEqualTo(201);
        JsonNode first = run("oncall", Map.of("incident", "checkout pods OOMKilled right after the 3.2 deploy",
                "fix", "raised the checkout memory limit to 1Gi and capped the PDF receipt renderer at 200 line items"));
        assertThat(first.path("result").path("memories_found").asInt()).isZero();
        indexed();
        JsonNode second = run("oncall", Map.of("incident", "the checkout service keeps getting killed for using too much RAM"));
        assertThat(second.path("result").path("known_fix").asText()).as(second.toString()).contains("fix that worked: raised the checkout memory limit to 1Gi");
        assertThat(second.path("result").path("from_task").asText()).isEqualTo(first.path("id").asText());
    }

    @Test
    void badInputFromTheSandboxIsRefusedNamingTheField() throws Exception {
        deploy("prober", "memory: read-write", """
                from aegis_agent import _UnixConnection, SOCKET
                def raw(path, body):
                    c = _UnixConnection(SOCKET)
                    c.request("POST", path, body=body, headers={"Authorization": "Bearer " + os.environ["AEGIS_TOKEN"],
                                                                "Content-Type": "application/json"})
                    r = c.getresponse()
                    e = json.loads(r.read())["error"]
                    return {"status": r.status, "error": e["code"], "field": e.get("field"), "message": e["message"]}
                def err(f):
                    r = attempt(f)
                    return dict(r, field=r["message"].split(":")[0]) if "error" in r else r
                result({
                    "empty": err(lambda: memory.query("   ")),
                    "huge": err(lambda: memory.store("x" * (10 * 1024 * 1024))),
                    "huge_query": err(lambda: memory.query("y" * (10 * 1024 * 1024))),
                    "long": err(lambda: memory.store("z" * 70000)),
                    "surrogate": err(lambda: memory.store("half of an emoji: \\ud83d")),
                    "utf8": raw("/v1/memory/store", b'{"text": "caf\\xc3 au lait \\xff"}'),
                    "filter": err(lambda: call("memory.query", {"query": "x", "colour": "red"})),
                    "kind": err(lambda: memory.query("x", kinds=["diary"])),
                    "store_kind": err(lambda: memory.store("x", kind="result")),
                    "limit": err(lambda: memory.query("x", limit=1000)),
                })
                """);
        JsonNode r = run("prober", Map.of()).path("result");
        Map<String, String> fields = Map.of("empty", "query", "huge", "text", "huge_query", "query", "long", "text", "surrogate", "text",
                "utf8", "text", "filter", "colour", "kind", "kinds", "store_kind", "kind", "limit", "limit");
        fields.forEach((what, field) -> {
            assertThat(r.path(what).path("status").asInt()).as(what + ": " + r.path(what)).isEqualTo(400);
            assertThat(r.path(what).path("field").asText()).as(what + ": " + r.path(what)).isEqualTo(field);
        });
        assertThat(r.path("huge").path("message").asText()).contains("at most 65536 characters");
        assertThat(r.path("long").path("message").asText()).contains("is 70000 characters; at most 65536");
        assertThat(r.path("surrogate").path("message").asText()).contains("unpaired surrogate");
        assertThat(r.path("utf8").path("message").asText()).contains("not valid UTF-8");
        assertThat(r.path("filter").path("message").asText()).contains("unknown field");
        assertThat(r.path("kind").path("message").asText()).contains("\"diary\" is not a memory kind");
        // Nothing of it was stored.
        indexed();
        assertThat(http.get("/v1/memory/search?q=half+of+an+emoji&agent=prober&kind=note").body().path("hits")).isEmpty();
        assertThat(node.audit().query(AuditQuery.all(10_000).action("memory.store")).stream()
                .filter(a -> a.event().agent().orElse("").equals("prober") && a.event().target().startsWith("memory:"))).isEmpty();
    }

    @Test
    void clientsSearchRateAndDeleteOverRestAndTheCli() throws Exception {
        deploy("notes", "", """
                log("deploy of billing-service v2.14.3 failed: migration 0042 timed out waiting for a lock on table invoices")
                log("run %d: rolled back to v2.14.2; the migration needs a maintenance window" % task.get("run"))
                result({"run": task.get("run")})
                """);
        String t1 = run("notes", Map.of("run", 1)).path("id").asText();
        String t2 = run("notes", Map.of("run", 2)).path("id").asText();
        indexed();

        // Search with filters.
        JsonNode found = http.get("/v1/memory/search?q=why+did+the+billing+migration+fail&agent=notes&kind=log,result&limit=3").body();
        assertThat(found.path("model").asText()).isEqualTo(node.memory().embedder().id());
        assertThat(found.path("hits").get(0).path("text").asText()).as(found.toString()).contains("migration 0042");
        assertThat(found.path("hits").get(0).path("task").asText()).isIn(t1, t2);
        assertThat(http.get("/v1/memory/search?q=migration&task=" + t2).body().path("hits").findValuesAsText("task")).containsOnly(t2);

        // Bad input: the field is named.
        assertField(http.get("/v1/memory/search?q=x&colour=red"), "colour", "unknown query parameter");
        assertField(http.get("/v1/memory/search?q=x&kind=diary"), "kind", "\"diary\" is not a memory kind");
        assertField(http.get("/v1/memory/search"), "q", "is required");
        assertField(http.get("/v1/memory/search?q="), "q", "is empty");
        assertField(http.get("/v1/memory/search?q=%20%20"), "q", "non-empty");
        assertField(http.get("/v1/memory/search?q=" + "w".repeat(5000)), "q", "at most 4096");
        assertField(http.get("/v1/memory/search?q=caf%C3%A9%FF"), "q", "UTF-8");
        assertField(http.get("/v1/memory/search?q=x&half_life=soon"), "half_life", "");
        assertField(http.get("/v1/memory/search?q=x&limit=0"), "limit", "");
        // Past the 8 KiB request line, Jetty refuses before routing (a 10 MB one is cut off the same way, mid-send).
        // On a client of its own: Jetty closes the connection after a 414, which a shared client might reuse.
        Http.Response tooLong = new Http(node.url(), key).get("/v1/memory/search?q=" + "w".repeat(20_000));
        assertThat(tooLong.status()).as("a URL past 8 KiB is refused before routing, as documented").isEqualTo(414);
        assertThat(tooLong.body().path("error").path("code").asText()).isEqualTo("http_414");

        // Feedback: stored, linked, and it re-weights the task's memories.
        Http.Response rated = http.post("/v1/tasks/" + t1 + "/feedback", Map.of("score", 1, "text", "the rollback advice was right"));
        assertThat(rated.status()).as(rated.body().toString()).isEqualTo(201);
        assertThat(http.get("/v1/memory/search?q=billing+migration&task=" + t1).body().path("hits"))
                .isNotEmpty().allSatisfy(h -> assertThat(h.path("rating").asDouble()).isEqualTo(1.0));
        JsonNode feedback = http.get("/v1/memory/search?q=was+the+rollback+advice+right&kind=feedback").body().path("hits");
        assertThat(feedback.findValuesAsText("task")).containsOnly(t1);
        assertField(http.post("/v1/tasks/" + t1 + "/feedback", Map.of("score", 5)), "score", "");
        assertField(http.post("/v1/tasks/" + t1 + "/feedback", Map.of("text", "no score")), "score", "");
        assertField(http.post("/v1/tasks/" + t1 + "/feedback", Map.of("score", 1, "text", "t".repeat(10 * 1024 * 1024))), "text", "");
        assertField(http.post("/v1/tasks/" + t1 + "/feedback", Map.of("score", 1, "colour", "red")), "colour", "");
        RawHttp.Response badUtf8 = RawHttp.send(node.url(), "POST", "/v1/tasks/" + t1 + "/feedback",
                Map.of("Authorization", "Bearer " + key, "Content-Type", "application/json"),
                "{\"score\": 1, \"text\": \"caf\u00c3 \u00ff\"}".getBytes(StandardCharsets.ISO_8859_1));
        assertThat(badUtf8.status()).as(badUtf8.body()).isEqualTo(400);
        assertThat(badUtf8.json().path("error").path("field").asText()).isEqualTo("text");
        RawHttp.Response huge = RawHttp.send(node.url(), "POST", "/v1/tasks/" + t1 + "/feedback",
                Map.of("Authorization", "Bearer " + key, "Content-Type", "application/json"), "{\"score\": 1e400}".getBytes(StandardCharsets.UTF_8));
        assertThat(huge.status()).as(huge.body()).isEqualTo(400);
        assertThat(huge.json().path("error").path("field").asText()).isEqualTo("score");
        assertThat(http.post("/v1/tasks/nope/feedback", Map.of("score", 1)).status()).isEqualTo(404);
        assertThat(node.audit().query(AuditQuery.all(10_000).action("task.feedback"))).singleElement()
                .satisfies(a -> assertThat(a.event().actor()).startsWith("key:"));

        JsonNode stats = http.get("/v1/memory/stats").body();
        assertThat(stats.path("by_agent").path("notes").asLong()).isPositive();
        assertThat(stats.path("indexing").path("indexed_tasks").asLong()).isGreaterThanOrEqualTo(2);
        assertThat(stats.path("dimension").asInt()).isEqualTo(384);

        // The CLI.
        CliTest.Run cli = CliTest.aegis("memory", "search", "billing migration lock", "--agent", "notes", "--kind", "log",
                "--url", node.url(), "--key", key);
        assertThat(cli.code()).as(cli.err()).isZero();
        assertThat(cli.out()).contains("[log] notes").contains("migration 0042");
        CliTest.Run cliStats = CliTest.aegis("memory", "stats", "--url", node.url(), "--key", key);
        assertThat(cliStats.code()).as(cliStats.err()).isZero();
        assertThat(cliStats.out()).contains("\"notes\"");

        // Deletes: a task's memories, then a namespace's, then everything; each is gone from results and audited.
        long before = http.get("/v1/memory/stats").body().path("by_agent").path("notes").asLong();
        Http.Response byTask = http.send(http.builder("/v1/memory/tasks/" + t1).DELETE());
        assertThat(byTask.status()).isEqualTo(200);
        assertThat(byTask.body().path("deleted").asLong()).isPositive();
        assertThat(http.get("/v1/memory/search?q=billing+migration&task=" + t1).body().path("hits")).isEmpty();
        assertThat(http.get("/v1/memory/stats").body().path("by_agent").path("notes").asLong()).isEqualTo(before - byTask.body().path("deleted").asLong());
        assertThat(http.send(http.builder("/v1/memory/tasks/nope").DELETE()).status()).isEqualTo(404);
        Http.Response byAgent = http.send(http.builder("/v1/memory/agents/notes").DELETE());
        assertThat(byAgent.status()).isEqualTo(200);
        assertThat(byAgent.body().path("deleted").asLong()).isPositive();
        assertThat(http.get("/v1/memory/search?q=billing+migration&agent=notes").body().path("hits")).isEmpty();
        assertThat(http.send(http.builder("/v1/memory/agents/notes").DELETE()).status()).as("nothing left there").isEqualTo(404);
        assertField(http.send(http.builder("/v1/memory").DELETE()), "all", "all=true");
        List<AuditRecord> deletes = node.audit().query(AuditQuery.all(10_000).action("memory.delete"));
        assertThat(deletes).extracting(a -> a.event().target()).contains("task:" + t1, "agent:notes");
        assertThat(deletes).allSatisfy(a -> assertThat(a.event().actor()).startsWith("key:"));
        CliTest.Run all = CliTest.aegis("memory", "delete", "--all", "--url", node.url(), "--key", key);
        assertThat(all.code()).as(all.err()).isZero();
        assertThat(all.out()).startsWith("deleted ");
        assertThat(http.get("/v1/memory/stats").body().path("memories").asLong()).isZero();
    }

    private static void assertField(Http.Response r, String field, String says) {
        assertThat(r.status()).as(r.body().toString()).isEqualTo(400);
        assertThat(r.body().path("error").path("field").asText()).as(r.body().toString()).isEqualTo(field);
        assertThat(r.body().path("error").path("message").asText()).as(r.body().toString()).contains(says);
    }
}
