package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.llm.LlmGateway;
import dev.aegis.llm.LocalModelServer;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The LLM gateway end to end: real Python agents in bubblewrap sandboxes call {@code aegis_agent.llm} over their
 * agent socket; AEGIS checks the manifest, adds the tenant's key from the secrets store and forwards to a real HTTP
 * provider (the local model server), meters tokens and audits every call.
 */
class LlmTest {
    static final String KEY = "sk-aegis-test-4f1c9a7e2b6d8053ac71";
    static final String TEXT = "The quarterly report is due on Friday and finance still needs the figures. "
            + "Alice moved the team lunch to Thursday at noon. The quarterly figures from sales arrived late this week. "
            + "Bob asks whether the report can include the new hiring plan. Parking on level two is closed on Monday. "
            + "Finance wants the quarterly report draft today so the figures can be checked.";

    /** Runs each call of the input and reports its answer or its error, never raising. */
    static final String CALLER = """
            from aegis_agent import task, result, llm, AegisError

            def run(c):
                msgs = [{"role": "user", "content": c.get("text", "")}]
                opts = c.get("options", {})
                parts = []
                try:
                    if c["kind"] == "chat":
                        a = llm.chat(msgs, model=c["model"], **opts)
                        return {"ok": a["choices"][0]["message"]["content"], "usage": a["usage"],
                                "finish": a["choices"][0]["finish_reason"]}
                    if c["kind"] == "stream":
                        chunks = 0
                        for ch in llm.stream(msgs, model=c["model"], **opts):
                            chunks += 1
                            if ch.get("choices"):
                                parts.append(ch["choices"][0]["delta"].get("content") or "")
                        return {"ok": "".join(parts), "chunks": chunks}
                    a = llm.embeddings(c["text"], model=c["model"])
                    return {"ok": len(a["data"][0]["embedding"]), "usage": a["usage"]}
                except AegisError as e:
                    return {"error": e.code, "status": e.status, "message": e.message, "partial": "".join(parts)}

            result({str(i): run(c) for i, c in enumerate(task["calls"])})
            """;

    @TempDir
    Path dir;
    LocalModelServer models;
    Node node;
    Http http;

    @BeforeEach
    void start() throws Exception {
        models = LocalModelServer.start().requireKey(KEY);
        LlmGateway.Config fast = new LlmGateway.Config(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofSeconds(2), 3,
                Duration.ofMillis(20), Duration.ofSeconds(2));
        node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()).withLlm(new Node.Llm(fast, false)));
        http = new Http(node.url(), node.firstAdminKey().orElseThrow());
    }

    @AfterEach
    void stop() {
        node.close();
        models.close();
    }

    @Test
    void agentsChatStreamAndEmbedThroughTheGatewayWithinTheirManifestAndEveryCallIsMeteredAndAudited() throws Exception {
        deploy("chatter", "permissions:\n  llm: {models: [\"local-summarizer\", \"local-embed\"], max_tokens_per_task: 5000}\n", CALLER);
        // No provider yet: refused, saying how to set one.
        JsonNode none = run("chatter", List.of(chat("local-summarizer", TEXT)));
        assertThat(none.path("0").path("error").asText()).isEqualTo("llm_not_configured");
        assertThat(none.path("0").path("status").asInt()).isEqualTo(422);
        assertThat(none.path("0").path("message").asText()).contains("aegis llm provider set");
        assertThat(models.requests()).isZero();

        setProvider("openai", models.openAiBaseUrl(), "OPENAI_API_KEY");
        JsonNode r = run("chatter", List.of(chat("local-summarizer", TEXT), stream("local-summarizer", TEXT),
                Map.of("kind", "embed", "model", "local-embed", "text", "quarterly report"), chat("gpt-4o", TEXT)));
        String answer = r.path("0").path("ok").asText();
        assertThat(answer).as(r.toString()).contains("quarterly report").doesNotContain("Parking");
        assertThat(r.path("0").path("finish").asText()).isEqualTo("stop");
        assertThat(r.path("1").path("ok").asText()).as("the stream adds up to the same answer").isEqualTo(answer);
        assertThat(r.path("1").path("chunks").asInt()).isGreaterThan(10);
        assertThat(r.path("2").path("ok").asInt()).isEqualTo(64);
        assertThat(r.path("3").path("error").asText()).isEqualTo("llm_model_denied");
        assertThat(r.path("3").path("status").asInt()).isEqualTo(403);
        assertThat(r.path("3").path("message").asText()).contains("\"gpt-4o\"").contains("local-summarizer, local-embed");
        assertThat(models.requests()).as("the denied call never left").isEqualTo(3);
        assertThat(models.lastKey()).as("the tenant's key was added on the way out").contains(KEY);

        // Metered: the task's figures and the tenant's usage hold what the provider reported.
        long prompt = r.path("0").path("usage").path("prompt_tokens").asLong();
        long completion = r.path("0").path("usage").path("completion_tokens").asLong();
        long embed = r.path("2").path("usage").path("prompt_tokens").asLong();
        long total = 2 * (prompt + completion) + embed;
        String taskId = lastTask("chatter");
        JsonNode task = http.get("/v1/tasks/" + taskId).body();
        assertThat(task.path("llm").path("calls").asLong()).isEqualTo(3);
        assertThat(task.path("llm").path("total_tokens").asLong()).isEqualTo(total);
        JsonNode usage = http.get("/v1/usage").body().path("usage");
        JsonNode row = null;
        for (JsonNode u : usage) if (u.path("agent").asText().equals("chatter")) row = u;
        assertThat(row).as(usage.toString()).isNotNull();
        assertThat(row.path("llm_calls").asLong()).isEqualTo(3);
        assertThat(row.path("llm_tokens").asLong()).isEqualTo(total);
        assertThat(row.path("llm_prompt_tokens").asLong()).isEqualTo(2 * prompt + embed);
        assertThat(http.get("/v1/usage?group_by=tenant").body().path("usage").get(0).path("llm_tokens").asLong()).isEqualTo(total);

        // Audited: every call with its model and decision; allowed ones with tokens and latency; no content by default.
        List<String> calls = new ArrayList<>();
        for (JsonNode rec : http.get("/v1/audit?action=llm.call&agent=chatter").body().path("records"))
            calls.add(rec.path("target").asText() + " " + rec.path("decision").asText() + " " + rec.path("details").path("call").asText());
        assertThat(calls).containsExactly("llm:local-summarizer deny chat", "llm:local-summarizer allow chat",
                "llm:local-summarizer allow stream", "llm:local-embed allow embeddings", "llm:gpt-4o deny chat");
        JsonNode results = http.get("/v1/audit?action=llm.result&agent=chatter").body().path("records");
        assertThat(results).hasSize(3);
        for (JsonNode rec : results) {
            assertThat(rec.path("details").path("outcome").asText()).isEqualTo("ok");
            assertThat(rec.path("details").path("prompt_tokens").asLong()).isPositive();
            assertThat(Double.parseDouble(rec.path("details").path("latency_ms").asText())).isPositive();
            assertThat(rec.path("task").asText()).isEqualTo(taskId);
        }
        assertThat(results.get(0).path("details").path("completion_tokens").asLong()).isEqualTo(completion);
        String audit = http.get("/v1/audit?limit=1000").raw().body();
        assertThat(audit).doesNotContain("Alice moved").doesNotContain(KEY);

        // Another tenant's agent gets nothing of this tenant's provider or key.
        Http acme = new Http(node.url(), node.keys().create("acme", "admin").plaintext());
        assertThat(acme.upload("/v1/agents", TarGz.pack(dir.resolve("agents/chatter"))).status()).isEqualTo(201);
        JsonNode other = acme.post("/v1/tasks", Map.of("agent", "chatter", "wait", true, "input", Map.of("calls",
                List.of(chat("local-summarizer", TEXT))))).body();
        assertThat(other.path("result").path("0").path("error").asText()).as(other.toString()).isEqualTo("llm_not_configured");
        assertThat(models.requests()).isEqualTo(3);
    }

    @Test
    void theTaskBudgetIsEnforcedBeforeForwardingAndEndsAStreamMidWay() throws Exception {
        setProvider("openai", models.openAiBaseUrl(), "OPENAI_API_KEY");
        deploy("measure", "permissions:\n  llm: {models: [\"m\"], max_tokens_per_task: 100000}\n", CALLER);
        JsonNode full = run("measure", List.of(chat("m", TEXT))).path("0");
        long prompt = full.path("usage").path("prompt_tokens").asLong();
        long completion = full.path("usage").path("completion_tokens").asLong();
        assertThat(completion).isGreaterThan(20);
        assertThat(models.lastRequest().orElseThrow().has("max_tokens")).as("plenty left: no cap added").isFalse();

        // Half the answer fits: the stream is cut where it would pass the budget, with the reason, and the task can spend no more.
        deploy("tight", "permissions:\n  llm: {models: [\"m\"], max_tokens_per_task: " + (prompt + completion / 2) + "}\n", CALLER);
        int before = models.requests();
        JsonNode r = run("tight", List.of(stream("m", TEXT), chat("m", TEXT)));
        assertThat(r.path("0").path("error").asText()).as(r.toString()).isEqualTo("llm_budget_exceeded");
        assertThat(r.path("0").path("message").asText()).contains("mid-stream").contains("max_tokens_per_task " + (prompt + completion / 2));
        String partial = r.path("0").path("partial").asText();
        assertThat(partial).isNotEmpty();
        assertThat(full.path("ok").asText()).startsWith(partial).isNotEqualTo(partial);
        assertThat(r.path("1").path("error").asText()).isEqualTo("llm_budget_exceeded");
        assertThat(r.path("1").path("status").asInt()).isEqualTo(403);
        assertThat(models.requests()).as("the second call was refused before it left").isEqualTo(before + 1);
        JsonNode cut = http.get("/v1/audit?action=llm.result&agent=tight").body().path("records").get(0).path("details");
        assertThat(cut.path("error").asText()).isEqualTo("llm_budget_exceeded");
        assertThat(cut.path("completion_tokens").asLong()).isBetween(1L, completion / 2);

        // A non-streaming call cannot be cut, so it is sent asking for no more than what is left.
        deploy("capped", "permissions:\n  llm: {models: [\"m\"], max_tokens_per_task: " + (prompt + 5) + "}\n", CALLER);
        JsonNode c = run("capped", List.of(chat("m", TEXT))).path("0");
        assertThat(c.path("finish").asText()).as(c.toString()).isEqualTo("length");
        assertThat(c.path("usage").path("completion_tokens").asLong()).isEqualTo(5);
        assertThat(models.lastRequest().orElseThrow().path("max_tokens").asLong()).isEqualTo(5);

        // A manifest without a budget grants no tokens.
        deploy("nobudget", "permissions:\n  llm: {models: [\"m\"]}\n", CALLER);
        JsonNode n = run("nobudget", List.of(chat("m", "Hello there.")));
        assertThat(n.path("0").path("message").asText()).contains("set permissions.llm.max_tokens_per_task");
    }

    @Test
    void upstreamRateLimitsAreRetriedAndFailuresTimeoutsAndBrokenStreamsAreClearErrors() throws Exception {
        setProvider("openai", models.openAiBaseUrl(), "OPENAI_API_KEY");
        deploy("chatter", "permissions:\n  llm: {models: [\"m\"], max_tokens_per_task: 100000}\n", CALLER);
        models.failNext(2, 429, Optional.of(Duration.ZERO));
        JsonNode ok = run("chatter", List.of(chat("m", TEXT))).path("0");
        assertThat(ok.path("ok").asText()).as(ok.toString()).contains("quarterly");
        assertThat(models.requests()).isEqualTo(3);

        models.failNext(4, 500, Optional.empty());
        JsonNode failed = run("chatter", List.of(chat("m", TEXT))).path("0");
        assertThat(failed.path("error").asText()).isEqualTo("llm_upstream_error");
        assertThat(failed.path("status").asInt()).isEqualTo(502);
        assertThat(failed.path("message").asText()).contains("answered 500").contains("after 4 attempts");

        models.hangNext(1);
        JsonNode hung = run("chatter", List.of(chat("m", TEXT))).path("0");
        assertThat(hung.path("error").asText()).isEqualTo("llm_timeout");
        assertThat(hung.path("status").asInt()).isEqualTo(504);

        models.cutNextStream(3);
        JsonNode broken = run("chatter", List.of(stream("m", TEXT))).path("0");
        assertThat(broken.path("error").asText()).isEqualTo("llm_upstream_error");
        assertThat(broken.path("message").asText()).contains("ended its stream before it was complete");
        assertThat(broken.path("partial").asText()).isNotEmpty();

        // A stream is retried too while nothing has reached the agent.
        models.failNext(1, 503, Optional.empty());
        JsonNode retried = run("chatter", List.of(stream("m", TEXT))).path("0");
        assertThat(retried.path("ok").asText()).isEqualTo(ok.path("ok").asText());

        List<String> outcomes = new ArrayList<>();
        for (JsonNode rec : http.get("/v1/audit?action=llm.result&agent=chatter").body().path("records"))
            outcomes.add(rec.path("details").path("outcome").asText() + " " + rec.path("details").path("error").asText(""));
        assertThat(outcomes).containsExactly("ok ", "error llm_upstream_error", "error llm_timeout", "error llm_upstream_error", "ok ");
    }

    @Test
    void anAnthropicProviderIsTranslatedBothWays() throws Exception {
        assertThat(SecretsTest.put(http, "ANTHROPIC_API_KEY", KEY).status()).isEqualTo(201);
        Http.Response set = http.send(http.builder("/v1/llm/provider").header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString("{\"kind\": \"anthropic\", \"base_url\": \"" + models.anthropicBaseUrl()
                        + "\", \"key_secret\": \"ANTHROPIC_API_KEY\"}")));
        assertThat(set.status()).as(set.body().toString()).isEqualTo(201);
        deploy("claude", "permissions:\n  llm: {models: [\"claude-*\"], max_tokens_per_task: 100000}\n", CALLER);
        JsonNode r = run("claude", List.of(chat("claude-local", TEXT), stream("claude-local", TEXT)));
        assertThat(r.path("0").path("ok").asText()).as(r.toString()).contains("quarterly report");
        assertThat(r.path("1").path("ok").asText()).isEqualTo(r.path("0").path("ok").asText());
        assertThat(r.path("0").path("usage").path("total_tokens").asLong()).isPositive();
        assertThat(models.lastKey()).contains(KEY);
        assertThat(models.lastRequest().orElseThrow().path("max_tokens").asLong()).isPositive();
        assertThat(http.get("/v1/tasks/" + lastTask("claude")).body().path("llm").path("calls").asLong()).isEqualTo(2);
    }

    @Test
    void promptsAndAnswersAreAuditedOnlyWhenTheOperatorSaysSo() throws Exception {
        node.close();
        node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of())
                .withLlm(new Node.Llm(Node.Llm.DEFAULT.gateway(), true)));
        http = new Http(node.url(), node.firstAdminKey().orElse(null) == null ? node.keys().create("default", "admin").plaintext()
                : node.firstAdminKey().get());
        setProvider("openai", models.openAiBaseUrl(), "OPENAI_API_KEY");
        deploy("chatter", "permissions:\n  llm: {models: [\"m\"], max_tokens_per_task: 100000}\n", CALLER);
        JsonNode r = run("chatter", List.of(chat("m", TEXT), stream("m", TEXT))).path("0");
        JsonNode call = http.get("/v1/audit?action=llm.call&agent=chatter").body().path("records").get(0).path("details");
        assertThat(call.path("prompt").asText()).contains("Alice moved the team lunch");
        JsonNode results = http.get("/v1/audit?action=llm.result&agent=chatter").body().path("records");
        assertThat(results.get(0).path("details").path("response").asText()).isEqualTo(r.path("ok").asText());
        assertThat(results.get(1).path("details").path("response").asText()).as("the streamed answer too").isEqualTo(r.path("ok").asText());
    }

    @Test
    void theProviderRouteChecksItsInputAndOnlyAdminsChangeIt() throws Exception {
        Http.Response missing = putProvider(http, "{\"kind\": \"openai\", \"base_url\": \"https://api.openai.com/v1\", \"key_secret\": \"NOPE_KEY\"}");
        assertThat(missing.status()).isEqualTo(422);
        assertThat(missing.body().path("error").path("code").asText()).isEqualTo("secret_missing");
        assertThat(missing.body().path("error").path("message").asText()).contains("aegis secrets set NOPE_KEY");
        assertThat(SecretsTest.put(http, "OPENAI_API_KEY", KEY).status()).isEqualTo(201);
        Http.Response kind = putProvider(http, "{\"kind\": \"gemini\", \"base_url\": \"https://x.example/v1\", \"key_secret\": \"OPENAI_API_KEY\"}");
        assertThat(kind.status()).isEqualTo(400);
        assertThat(kind.body().path("error").path("field").asText()).isEqualTo("kind");
        for (String url : List.of("ftp://x.example", "https://user:pw@x.example/v1", "https://x.example/v1?k=1", "not a url"))
            assertThat(putProvider(http, "{\"kind\": \"openai\", \"base_url\": \"" + url + "\", \"key_secret\": \"OPENAI_API_KEY\"}")
                    .body().path("error").path("field").asText()).as(url).isEqualTo("base_url");
        assertThat(http.get("/v1/llm/provider").status()).isEqualTo(404);

        Http deployer = new Http(node.url(), node.keys().create("default", "deployer").plaintext());
        String good = "{\"kind\": \"openai\", \"base_url\": \"https://api.openai.com/v1/\", \"key_secret\": \"OPENAI_API_KEY\"}";
        assertThat(putProvider(deployer, good).status()).isEqualTo(403);
        Http.Response created = putProvider(http, good);
        assertThat(created.status()).isEqualTo(201);
        assertThat(created.body().path("base_url").asText()).isEqualTo("https://api.openai.com/v1");
        assertThat(putProvider(http, good).status()).isEqualTo(200);
        JsonNode shown = deployer.get("/v1/llm/provider").body();
        assertThat(shown.path("key_secret").asText()).isEqualTo("OPENAI_API_KEY");
        assertThat(shown.toString()).doesNotContain(KEY);
        assertThat(deployer.send(deployer.builder("/v1/llm/provider").DELETE()).status()).isEqualTo(403);
        assertThat(http.send(http.builder("/v1/llm/provider").DELETE()).body().path("deleted").asBoolean()).isTrue();
        assertThat(http.send(http.builder("/v1/llm/provider").DELETE()).status()).isEqualTo(404);

        // The same through the CLI.
        String[] conn = {"--url", node.url(), "--key", node.firstAdminKey().orElseThrow()};
        CliTest.Run set = CliTest.aegis(concat(new String[]{"llm", "provider", "set", "--kind", "anthropic", "--base-url",
                "https://api.anthropic.com", "--key-secret", "OPENAI_API_KEY"}, conn));
        assertThat(set.code()).as(set.err()).isZero();
        assertThat(set.out()).startsWith("llm provider: anthropic https://api.anthropic.com (key in secret OPENAI_API_KEY");
        assertThat(CliTest.aegis(concat(new String[]{"llm", "provider", "get"}, conn)).out()).startsWith("anthropic https://api.anthropic.com");
        CliTest.Run bad = CliTest.aegis(concat(new String[]{"llm", "provider", "set", "--kind", "openai", "--base-url", "ftp://x",
                "--key-secret", "OPENAI_API_KEY"}, conn));
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("base_url").contains("HTTP 400");
        assertThat(CliTest.aegis(concat(new String[]{"llm", "provider", "delete"}, conn)).out()).contains("llm provider deleted");
        assertThat(CliTest.aegis(concat(new String[]{"llm", "provider", "get"}, conn)).err()).contains("has no LLM provider").contains("HTTP 404");

        List<String> actions = new ArrayList<>();
        for (JsonNode rec : http.get("/v1/audit?limit=1000").body().path("records"))
            if (rec.path("action").asText().startsWith("llm.provider")) actions.add(rec.path("action").asText());
        assertThat(actions).containsExactly("llm.provider.set", "llm.provider.set", "llm.provider.delete", "llm.provider.set",
                "llm.provider.delete");
    }

    private static String[] concat(String[] a, String[] b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /**
     * The key is used for the agent's calls and still appears nowhere it can look: its environment, every file it can
     * read (but the host's /usr), every process's environment and command line, while a call is in flight and after.
     */
    @Test
    void theKeyIsNeverVisibleInsideTheSandbox() throws Exception {
        setProvider("openai", models.openAiBaseUrl(), "OPENAI_API_KEY");
        deploy("hunter", "permissions:\n  llm: {models: [\"m\"], max_tokens_per_task: 100000}\n", HUNTER);
        int half = KEY.length() / 2;
        Map<String, Object> input = Map.of("head", KEY.substring(0, half), "tail", KEY.substring(half), "text", TEXT);
        JsonNode t = http.post("/v1/tasks", Map.of("agent", "hunter", "wait", true, "input", input)).body();
        assertThat(t.path("state").asText()).as(t.toString()).isEqualTo("succeeded");
        assertThat(t.path("result").path("found")).as(t.toString()).isEmpty();
        assertThat(t.path("result").path("scanned").asInt()).as("it did look").isGreaterThan(3);
        assertThat(t.path("result").path("answered").asBoolean()).isTrue();
        assertThat(models.lastKey()).contains(KEY);
        String everything = http.get("/v1/tasks/" + t.path("id").asText() + "/logs").raw().body() + t
                + http.get("/v1/audit?limit=1000").raw().body();
        assertThat(everything).doesNotContain(KEY);

        // The control: the same hunt finds the key where a manifest does put it (as an injected secret).
        deploy("leaky", "permissions:\n  llm: {models: [\"m\"], max_tokens_per_task: 100000}\nsecrets: [OPENAI_API_KEY]\n", HUNTER);
        JsonNode leaky = http.post("/v1/tasks", Map.of("agent", "leaky", "wait", true, "input", input)).body();
        assertThat(leaky.path("result").path("found").toString()).as(leaky.toString())
                .contains("during env OPENAI_API_KEY").contains("/proc/");
    }

    /** Looks for the key (given in halves) everywhere it can, while a streamed call is in flight and after. */
    static final String HUNTER = """
                import os, threading
                from aegis_agent import task, result, llm
                needle = (task["head"] + task["tail"]).encode()
                found, scanned = [], [0]

                def hunt(where):
                    for k, v in os.environ.items():
                        if needle in (k + "=" + v).encode():
                            found.append(where + " env " + k)
                    for root, dirs, files in os.walk("/"):
                        if root == "/":
                            dirs[:] = [d for d in dirs if d not in ("proc", "sys", "dev", "usr")]
                        for f in files:
                            p = os.path.join(root, f)
                            try:
                                if os.path.islink(p) or os.path.getsize(p) > 4 << 20:
                                    continue
                                with open(p, "rb") as fh:
                                    scanned[0] += 1
                                    if needle in fh.read():
                                        found.append(where + " file " + p)
                            except OSError:
                                pass
                    for pid in os.listdir("/proc"):
                        for part in ("environ", "cmdline"):
                            try:
                                with open("/proc/%s/%s" % (pid, part), "rb") as fh:
                                    if needle in fh.read():
                                        found.append(where + " /proc/%s/%s" % (pid, part))
                            except OSError:
                                pass

                answers = []
                calls = [threading.Thread(target=lambda: answers.append(
                    "".join((c["choices"][0]["delta"].get("content") or "") for c in llm.stream(
                        [{"role": "user", "content": task["text"]}], model="m") if c.get("choices"))))]
                calls[0].start()
                hunt("during")
                calls[0].join()
                hunt("after")
                result({"found": found, "scanned": scanned[0], "answered": bool(answers and answers[0])})
                """;

    // ---- helpers ----

    static Map<String, Object> chat(String model, String text) {
        return Map.of("kind", "chat", "model", model, "text", text);
    }

    static Map<String, Object> stream(String model, String text) {
        return Map.of("kind", "stream", "model", model, "text", text);
    }

    private void setProvider(String kind, String url, String secret) throws Exception {
        assertThat(SecretsTest.put(http, secret, KEY).status()).isIn(200, 201);
        Http.Response r = putProvider(http, "{\"kind\": \"" + kind + "\", \"base_url\": \"" + url + "\", \"key_secret\": \"" + secret + "\"}");
        assertThat(r.status()).as(r.body().toString()).isIn(200, 201);
    }

    static Http.Response putProvider(Http http, String body) throws Exception {
        return http.send(http.builder("/v1/llm/provider").header("Content-Type", "application/json").PUT(HttpRequest.BodyPublishers.ofString(body)));
    }

    private void deploy(String name, String yamlExtra, String code) throws Exception {
        Path d = Files.createDirectories(dir.resolve("agents/" + name));
        Files.writeString(d.resolve("agent.yaml"), "name: " + name + "\nversion: 1.0.0\nruntime: bubblewrap\n"
                + "entrypoint: [\"python3\", \"agent.py\"]\nresources: {timeout: 60s}\n" + yamlExtra);
        Files.writeString(d.resolve("agent.py"), code);
        Http.Response r = http.upload("/v1/agents", TarGz.pack(d));
        assertThat(r.status()).as(r.body().toString()).isEqualTo(201);
    }

    private JsonNode run(String agent, List<?> calls) throws Exception {
        JsonNode t = http.post("/v1/tasks", Map.of("agent", agent, "wait", true, "input", Map.of("calls", calls))).body();
        assertThat(t.path("state").asText()).as(t.toString()).isEqualTo("succeeded");
        return t.path("result");
    }

    private String lastTask(String agent) throws Exception {
        for (JsonNode t : http.get("/v1/tasks?limit=50").body().path("tasks"))
            if (t.path("agent").asText().equals(agent)) return t.path("id").asText();
        throw new AssertionError("no task of " + agent);
    }
}
