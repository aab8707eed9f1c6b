package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tenant secrets end to end: API and CLI, sealed at rest, injected into one agent's sandbox, scrubbed everywhere. */
class SecretsTest {
    /** Quote, backslash and non-ASCII: every escaping path is exercised. */
    static final String VALUE = "S3cr3t-\"q\"\\b-ünï-7f3a91c2e8d4b605";
    static final String ROTATED = "rotated-value-9876543210";

    /** Prints its secret every way the scrubber covers, on stderr, through the agent API and in its result. */
    static final String LEAKY = """
            import base64, json, os, sys, time
            from aegis_agent import task, log, result
            s = os.environ["API_TOKEN"]
            time.sleep(task.get("delay", 0))
            def err(text):
                sys.stderr.write(text); sys.stderr.flush()
            err("plain " + s + "\\n")
            err("split " + s[:5]); time.sleep(0.05); err(s[5:] + " end\\n")
            err("b64 " + base64.b64encode(s.encode()).decode() + "\\n")
            err("b64url-inside " + base64.urlsafe_b64encode(b"xy" + s.encode() + b"z").decode() + "\\n")
            err("json " + json.dumps({"t": s}) + "\\n")
            err("json-utf8 " + json.dumps({"t": s}, ensure_ascii=False) + "\\n")
            log("api " + s)
            if task.get("mode") == "garbage":
                print("not json " + s)
            else:
                result({"echo": s, "escaped": json.dumps(s), "b64": base64.b64encode(s.encode()).decode(), "len": len(s)})
            """;

    @TempDir
    Path dir;

    @Test
    void setListDeleteThroughTheApiWithRolesAndNeverAValue() throws Exception {
        Path data = dir.resolve("data");
        try (Node node = new Node(Node.Config.embedded(data).withApi("127.0.0.1", 0, List.of()))) {
            assertThat(node.notices()).singleElement().asString().contains("made a new secrets key").contains("secrets.key");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(data.resolve("secrets.key")))).isEqualTo("rw-------");
            Http admin = new Http(node.url(), node.firstAdminKey().orElseThrow());
            Http.Response created = put(admin, "OPENAI_API_KEY", VALUE);
            assertThat(created.status()).as(created.body().toString()).isEqualTo(201);
            assertThat(created.body().path("name").asText()).isEqualTo("OPENAI_API_KEY");
            assertThat(put(admin, "OPENAI_API_KEY", ROTATED).status()).isEqualTo(200);

            Http deployer = new Http(node.url(), key(admin, "deployer"));
            Http runner = new Http(node.url(), key(admin, "runner"));
            Http reader = new Http(node.url(), key(admin, "reader"));
            assertThat(put(deployer, "DB_PASSWORD", "hunter2hunter2").status()).isEqualTo(201);
            assertThat(put(runner, "DB_PASSWORD", "nope-nope").status()).isEqualTo(403);
            assertThat(reader.send(reader.builder("/v1/secrets/DB_PASSWORD").DELETE()).status()).isEqualTo(403);
            JsonNode listed = reader.get("/v1/secrets").body();
            assertThat(listed.path("secrets").findValuesAsText("name")).containsExactly("DB_PASSWORD", "OPENAI_API_KEY");
            assertThat(listed.toString()).doesNotContain(ROTATED).doesNotContain("hunter2").doesNotContain("value");

            // Bad input names the field and what is allowed, and changes nothing.
            assertThat(put(admin, "lower", "abcdefgh").body().path("error").path("field").asText()).isEqualTo("name");
            assertThat(put(admin, "AEGIS_TOKEN", "abcdefgh").body().path("error").path("message").asText()).contains("reserved");
            assertThat(put(admin, "X", "abc").body().path("error").path("message").asText()).contains("too short").contains("4 characters");
            assertThat(admin.send(admin.builder("/v1/secrets/X").header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"value\": 5}"))).body().path("error").path("field").asText()).isEqualTo("value");
            assertThat(admin.send(admin.builder("/v1/secrets/X").header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"value\": \"abcdefgh\", \"colour\": 1}"))).status()).isEqualTo(400);
            assertThat(admin.send(admin.builder("/v1/secrets/NOPE").DELETE()).status()).isEqualTo(404);
            assertThat(admin.get("/v1/secrets").body().path("secrets")).hasSize(2);

            assertThat(deployer.send(deployer.builder("/v1/secrets/DB_PASSWORD").DELETE()).body().path("deleted").asBoolean()).isTrue();
            assertThat(admin.get("/v1/secrets").body().path("secrets").findValuesAsText("name")).containsExactly("OPENAI_API_KEY");

            // Audited by name and action, never the value.
            JsonNode records = admin.get("/v1/audit?limit=500").body().path("records");
            List<String> secretActions = new ArrayList<>();
            records.forEach(r -> {
                if (r.path("action").asText().startsWith("secret.")) secretActions.add(r.path("action").asText() + " " + r.path("target").asText());
            });
            assertThat(secretActions).containsExactly("secret.set secret:OPENAI_API_KEY", "secret.set secret:OPENAI_API_KEY",
                    "secret.set secret:DB_PASSWORD", "secret.delete secret:DB_PASSWORD");
        }
        assertNowhereOnDisk(data, VALUE, ROTATED, "hunter2hunter2");
    }

    @Test
    void injectedIntoItsAgentOnlyAndScrubbedFromLogsResultsErrorsAndStreams() throws Exception {
        Path data = dir.resolve("data");
        try (Node node = new Node(Node.Config.embedded(data).withApi("127.0.0.1", 0, List.of()))) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            Path leaky = agent("leaky", "secrets: [API_TOKEN]\n", LEAKY);
            // Deploy refuses an agent naming a secret the tenant does not have.
            Http.Response refused = http.upload("/v1/agents", TarGz.pack(leaky));
            assertThat(refused.status()).isEqualTo(422);
            assertThat(refused.body().path("error").path("code").asText()).isEqualTo("secret_missing");
            assertThat(refused.body().path("error").path("message").asText()).contains("API_TOKEN").contains("aegis secrets set");
            assertThat(http.get("/v1/agents/leaky").status()).isEqualTo(404);

            assertThat(put(http, "API_TOKEN", VALUE).status()).isEqualTo(201);
            assertThat(http.upload("/v1/agents", TarGz.pack(leaky)).status()).isEqualTo(201);
            Path nosy = agent("nosy", "", "import os, json\nprint(json.dumps(dict(os.environ)))\n");
            assertThat(http.upload("/v1/agents", TarGz.pack(nosy)).status()).isEqualTo(201);

            // A live stream opened while the task runs (it waits 1.5 s before printing).
            String id = http.post("/v1/tasks", Map.of("agent", "leaky", "input", Map.of("delay", 1.5))).body().path("id").asText();
            String stream = http.client().send(http.builder("/v1/tasks/" + id + "/logs/stream").header("Accept", "text/event-stream")
                    .GET().build(), HttpResponse.BodyHandlers.ofString()).body();
            JsonNode task = http.get("/v1/tasks/" + id).body();
            assertThat(task.path("state").asText()).as(task.toString()).isEqualTo("succeeded");
            JsonNode result = task.path("result");
            assertThat(result.path("echo").asText()).isEqualTo("[secret:API_TOKEN]");
            assertThat(result.path("escaped").asText()).isEqualTo("\"[secret:API_TOKEN]\"");
            assertThat(result.path("b64").asText()).isEqualTo("[secret:API_TOKEN]");
            assertThat(result.path("len").asInt()).as("the agent really had the value").isEqualTo(VALUE.length());
            String logs = http.get("/v1/tasks/" + id + "/logs").body().toString();
            assertThat(logs).contains("plain [secret:API_TOKEN]").contains("split [secret:API_TOKEN] end")
                    .contains("b64 [secret:API_TOKEN]").contains("api [secret:API_TOKEN]")
                    .contains("json {\\\"t\\\": \\\"[secret:API_TOKEN]\\\"}").contains("json-utf8 {\\\"t\\\": \\\"[secret:API_TOKEN]\\\"}");
            assertThat(logs).containsPattern("b64url-inside .{0,4}\\[secret:API_TOKEN].{0,4}\\\"");
            assertThat(stream).contains("event: log").contains("plain [secret:API_TOKEN]").contains("event: end");
            for (String text : List.of(task.toString(), logs, stream)) assertNoForm(text);

            // Error texts: stdout that is not JSON is quoted in the error, scrubbed.
            JsonNode garbage = http.post("/v1/tasks", Map.of("agent", "leaky", "wait", true, "input", Map.of("mode", "garbage"))).body();
            assertThat(garbage.path("error").path("code").asText()).isEqualTo("bad_output");
            assertThat(garbage.path("error").path("message").asText()).contains("not json [secret:API_TOKEN]");
            assertNoForm(garbage.toString());

            // Only the agent that names the secret gets it.
            JsonNode env = http.post("/v1/tasks", Map.of("agent", "nosy", "wait", true)).body();
            assertThat(env.path("state").asText()).isEqualTo("succeeded");
            assertThat(env.path("result").has("AEGIS_TOKEN")).as("it is the agent's environment").isTrue();
            assertThat(env.path("result").has("API_TOKEN")).isFalse();
            assertNoForm(env.toString());
            assertNoForm(http.get("/v1/audit?limit=1000").body().toString());
        }
        assertNowhereOnDisk(data, VALUE);
    }

    @Test
    void rotationReplacesWarmSandboxesAndDeletionFailsTasksClearly() throws Exception {
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()))) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            assertThat(put(http, "API_TOKEN", VALUE).status()).isEqualTo(201);
            Path warm = agent("warm", "secrets: [API_TOKEN]\npool: {warm: 1, max: 2}\n",
                    "import os, json\nprint(json.dumps({'n': len(os.environ['API_TOKEN']), 'head': os.environ['API_TOKEN'][:7]}))\n");
            assertThat(http.upload("/v1/agents", TarGz.pack(warm)).status()).isEqualTo(201);
            CrashRecoveryTest.waitFor(() -> node.orchestrator().warmCount() == 1);
            String booted = node.orchestrator().instances("default").getFirst().id();

            assertThat(put(http, "API_TOKEN", ROTATED).status()).isEqualTo(200);
            JsonNode t = http.post("/v1/tasks", Map.of("agent", "warm", "wait", true)).body();
            assertThat(t.path("result").path("head").asText()).as(t.toString()).isEqualTo("rotated");
            assertThat(t.path("lifecycle").toString()).doesNotContain(booted);

            CrashRecoveryTest.waitFor(() -> node.orchestrator().warmCount() == 1);
            assertThat(http.send(http.builder("/v1/secrets/API_TOKEN").DELETE()).status()).isEqualTo(200);
            CrashRecoveryTest.waitFor(() -> node.orchestrator().warmCount() == 0);
            JsonNode gone = http.post("/v1/tasks", Map.of("agent", "warm", "wait", true)).body();
            assertThat(gone.path("state").asText()).isEqualTo("failed");
            assertThat(gone.path("error").path("code").asText()).isEqualTo("secret_missing");
            assertThat(gone.path("error").path("message").asText()).contains("API_TOKEN").contains("does not exist");
        }
    }

    @Test
    void aNodeRefusesToStartWithAKeyThatCannotOpenTheStoredSecrets() throws Exception {
        Path data = dir.resolve("data");
        String key = Base64.getEncoder().encodeToString(new byte[32]);
        Node.Security withKey = Node.Security.fromEnvironment().withSecretsKey(Optional.empty(), Optional.of(key));
        try (Node node = new Node(Node.Config.embedded(data).withSecurity(withKey))) {
            assertThat(node.notices()).isEmpty();
            node.orchestrator().secrets().set("default", "API_TOKEN", VALUE);
        }
        assertThat(data.resolve("secrets.key")).as("a given key is never written to the data folder").doesNotExist();
        byte[] other = new byte[32];
        other[0] = 1;
        Node.Config wrong = Node.Config.embedded(data).withSecurity(Node.Security.fromEnvironment().withSecretsKey(Optional.empty(),
                Optional.of(Base64.getEncoder().encodeToString(other))));
        assertThatThrownBy(() -> new Node(wrong)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("cannot decrypt 1 of the 1 stored secrets").hasMessageContaining("API_TOKEN")
                .hasMessageContaining("$AEGIS_SECRETS_KEY").hasMessageNotContaining(VALUE);
        // Without any key the node will not mint one over existing secrets.
        assertThatThrownBy(() -> new Node(Node.Config.embedded(data).withSecurity(Node.Security.fromEnvironment().withSecretsKey(Optional.empty(), Optional.empty()))))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("holds secrets but no key");
        assertThat(data.resolve("secrets.key")).doesNotExist();
        // A malformed key says what a key is.
        assertThatThrownBy(() -> new Node(Node.Config.embedded(data).withSecurity(Node.Security.fromEnvironment().withSecretsKey(Optional.empty(), Optional.of("c2hvcnQ=")))))
                .hasMessageContaining("holds 5 bytes").hasMessageContaining("head -c 32 /dev/urandom | base64");
        // The right key, from a file this time, still opens them (and the lock of the failed starts is free).
        Path file = dir.resolve("key.txt");
        Files.writeString(file, key + "\n");
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        try (Node node = new Node(Node.Config.embedded(data).withSecurity(Node.Security.fromEnvironment().withSecretsKey(Optional.of(file), Optional.empty())))) {
            assertThat(node.orchestrator().secrets().list("default")).extracting(i -> i.name()).containsExactly("API_TOKEN");
        }
    }

    @Test
    void cliSetsFromStdinOrAFileListsAndDeletes() throws Exception {
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()))) {
            String[] conn = {"--url", node.url(), "--key", node.firstAdminKey().orElseThrow()};
            InputStream stdin = System.in;
            CliTest.Run set;
            try {
                System.setIn(new ByteArrayInputStream((VALUE + "\n").getBytes(StandardCharsets.UTF_8)));
                set = CliTest.aegis(concat(new String[]{"secrets", "set", "API_TOKEN"}, conn));
            } finally {
                System.setIn(stdin);
            }
            assertThat(set.code()).as(set.err()).isZero();
            assertThat(set.out()).isEqualTo("created API_TOKEN\n");
            assertThat(node.orchestrator().secrets().list("default")).hasSize(1);
            Path file = dir.resolve("value.txt");
            Files.writeString(file, ROTATED);
            CliTest.Run replaced = CliTest.aegis(concat(new String[]{"secrets", "set", "API_TOKEN", "--value-file", file.toString()}, conn));
            assertThat(replaced.out()).as(replaced.err()).isEqualTo("replaced API_TOKEN\n");
            CliTest.Run list = CliTest.aegis(concat(new String[]{"secrets", "list"}, conn));
            assertThat(list.out()).contains("API_TOKEN").contains("created ").doesNotContain(ROTATED).doesNotContain("S3cr3t");
            CliTest.Run bad = CliTest.aegis(concat(new String[]{"secrets", "set", "bad-name", "--value-file", file.toString()}, conn));
            assertThat(bad.code()).isEqualTo(2);
            assertThat(bad.err()).contains("UPPER_SNAKE_CASE").contains("HTTP 400");
            assertThat(CliTest.aegis(concat(new String[]{"secrets", "delete", "API_TOKEN"}, conn)).out()).isEqualTo("deleted API_TOKEN\n");
            assertThat(CliTest.aegis(concat(new String[]{"secrets", "delete", "API_TOKEN"}, conn)).err()).contains("does not exist");
        }
    }

    // ---- helpers ----

    /** No covered form of the value: verbatim, JSON-escaped, base64. */
    static void assertNoForm(String text) {
        assertThat(text).doesNotContain("S3cr3t").doesNotContain("7f3a91c2e8d4b605")
                .doesNotContain(Base64.getEncoder().encodeToString(VALUE.getBytes(StandardCharsets.UTF_8)).substring(0, 20));
    }

    /** Not in the database file, its WAL, the audit log or anything else the node wrote (the key file aside). */
    static void assertNowhereOnDisk(Path data, String... values) throws Exception {
        List<Path> files;
        try (Stream<Path> walk = Files.walk(data)) {
            files = walk.filter(Files::isRegularFile).toList();
        }
        assertThat(files).anyMatch(p -> p.getFileName().toString().equals("aegis.db"));
        for (Path f : files) {
            byte[] bytes = Files.readAllBytes(f);
            String latin = new String(bytes, StandardCharsets.ISO_8859_1);
            for (String v : values) {
                String utf8AsLatin = new String(v.getBytes(StandardCharsets.UTF_8), StandardCharsets.ISO_8859_1);
                assertThat(latin).as(f + " holds a secret value").doesNotContain(utf8AsLatin)
                        .doesNotContain(Base64.getEncoder().encodeToString(v.getBytes(StandardCharsets.UTF_8)));
                assertThat(latin).as(f + " holds a recognisable piece of a secret").doesNotContain("7f3a91c2e8d4b605");
            }
        }
    }

    private Path agent(String name, String yamlExtra, String python) throws Exception {
        Path d = Files.createDirectories(dir.resolve("agents/" + name));
        Files.writeString(d.resolve("agent.yaml"), "name: " + name + "\nversion: 1.0.0\nruntime: bubblewrap\n"
                + "entrypoint: [\"python3\", \"agent.py\"]\n" + yamlExtra);
        Files.writeString(d.resolve("agent.py"), python);
        return d;
    }

    static Http.Response put(Http http, String name, String value) throws Exception {
        return http.send(http.builder("/v1/secrets/" + name).header("Content-Type", "application/json")
                .PUT(HttpRequest.BodyPublishers.ofString(Http.JSON.writeValueAsString(Map.of("value", value)))));
    }

    private static String key(Http admin, String role) throws Exception {
        return admin.post("/v1/keys", Map.of("role", role)).body().path("key").asText();
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
