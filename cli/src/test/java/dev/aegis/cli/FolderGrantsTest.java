package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.HostFolders;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * Filesystem grants with real bubblewrap sandboxes: only operator-approved host folders, symlinks and {@code ..}
 * cannot leave them (from the host side at deploy, from inside the sandbox at run time), writes are audited.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class FolderGrantsTest {
    @TempDir
    static Path dir;
    Node node;
    Http http;
    Path host, outside;

    /** Tries each path and reports "ok:<first line>" or "err:<exception name>", never raising. */
    static final String PROBE = """
            import json, os, sys
            from aegis_agent import task, result
            def attempt(f):
                try:
                    return "ok:" + str(f())
                except Exception as e:
                    return "err:" + type(e).__name__
            def read(p):
                with open(p) as f:
                    return f.readline().strip()
            def write(p, text="pwned"):
                with open(p, "w") as f:
                    f.write(text)
                return len(text)
            out = {}
            for op in task.get("ops", []):
                kind, p = op[0], op[1]
                if kind == "append": out[kind + " " + p] = attempt(lambda: open(p, "a").write(op[2]))
                if kind == "rm": out[kind + " " + p] = attempt(lambda: os.remove(p))
                if kind == "mkdir": out[kind + " " + p] = attempt(lambda: os.makedirs(p))
                if kind == "symlink": out[kind + " " + p] = attempt(lambda: os.symlink(op[2], p))
                if kind == "many": out[kind + " " + p] = attempt(lambda: [open(os.path.join(p, "f%05d" % i), "w").close() for i in range(op[2])] and op[2])
            for p in task.get("write", []):
                out["write " + p] = attempt(lambda: write(p))
            for p in task.get("read", []):
                out["read " + p] = attempt(lambda: read(p))
            out["listdir /"] = sorted(os.listdir("/"))
            result(out)
            """;

    @BeforeAll
    void start() throws Exception {
        host = Files.createDirectories(dir.resolve("host"));
        outside = Files.createDirectories(dir.resolve("outside"));
        Files.writeString(outside.resolve("secret.txt"), "outside secret\n");
        Path inbox = Files.createDirectories(host.resolve("approved/inbox"));
        Files.writeString(inbox.resolve("hello.txt"), "hello from the host\n");
        // Planted on the host inside a granted folder, pointing out of it: absolute, relative, to a folder.
        Files.createSymbolicLink(inbox.resolve("abs-link"), outside.resolve("secret.txt"));
        Files.createSymbolicLink(inbox.resolve("rel-link"), Path.of("../../../outside/secret.txt"));
        Files.createSymbolicLink(inbox.resolve("dir-link"), outside);
        assertThat(Files.readString(inbox.resolve("rel-link"))).as("the relative link works on the host").startsWith("outside");
        Files.createSymbolicLink(host.resolve("approved/evil"), outside);
        Path out = Files.createDirectories(host.resolve("approved/out"));
        Files.writeString(out.resolve("existing.txt"), "old\n");
        Files.writeString(out.resolve("gone.txt"), "bye\n");
        Files.createSymbolicLink(out.resolve("escape-dir"), outside);
        Files.createDirectories(host.resolve("tenants/default"));
        Files.createDirectories(host.resolve("tenants/acme"));
        List<HostFolders.Approved> approved = List.of(
                HostFolders.Approved.parse(host.resolve("approved") + "=/data", false),
                HostFolders.Approved.parse(out + "=/data/out", true),
                HostFolders.Approved.parse(host.resolve("tenants") + "/{tenant}=/tenant", true));
        Node.Config config = Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of());
        node = new Node(config.withSecurity(config.security().withFolders(approved)));
        http = new Http(node.url(), node.firstAdminKey().orElseThrow());
    }

    @AfterAll
    void stop() {
        node.close();
    }

    @Test
    void grantsOutsideApprovedFoldersAreRefusedAtDeployAndAudited() throws Exception {
        Map<String, String> refusals = Map.of(
                "write: [\"/data/inbox\"]", "may only be granted read-only",
                "read: [\"/elsewhere\"]", "outside every folder this server allows to grant",
                "read: [\"/data/evil\"]", "through a symbolic link",
                "read: [\"/data/missing\"]", "does not exist in the approved folder",
                "read: [\"/etc/ssl\"]", "cannot be granted",
                "read: [\"/data/inbox/hello.txt\"]", "is not a folder");
        int n = 0;
        for (Map.Entry<String, String> r : refusals.entrySet()) {
            String name = "refused-" + n++;
            Http.Response resp = deploy(name, "permissions:\n  filesystem: {" + r.getKey() + "}\n");
            assertThat(resp.status()).as(r.getKey() + " -> " + resp.body()).isEqualTo(403);
            assertThat(resp.body().path("error").path("code").asText()).isEqualTo("policy_denied");
            assertThat(resp.body().path("error").path("field").asText()).isEqualTo("permissions.filesystem");
            assertThat(resp.body().path("error").path("message").asText()).as(r.getKey()).contains(r.getValue())
                    .contains("permissions.filesystem.").doesNotContain(host.toString()).doesNotContain(outside.toString());
            assertThat(http.get("/v1/agents/" + name).status()).isEqualTo(404);
            JsonNode audit = http.get("/v1/audit?action=policy.filesystem&agent=" + name).body().path("records");
            assertThat(audit).hasSize(1);
            assertThat(audit.get(0).path("decision").asText()).isEqualTo("deny");
            assertThat(audit.get(0).path("reason").asText()).contains(r.getValue());
        }
    }

    @Test
    void symlinksAndDotDotCannotLeaveAReadGrant() throws Exception {
        assertThat(deploy("reader", "permissions:\n  filesystem: {read: [\"/data/inbox\"]}\n").status()).isEqualTo(201);
        String escape = "/data/inbox/../../.." + outside + "/secret.txt";
        JsonNode r = run("reader", Map.of("read", List.of("/data/inbox/hello.txt", "/data/inbox/abs-link", "/data/inbox/rel-link",
                "/data/inbox/dir-link/secret.txt", escape, outside + "/secret.txt"), "write", List.of("/data/inbox/new.txt")));
        assertThat(r.path("read /data/inbox/hello.txt").asText()).isEqualTo("ok:hello from the host");
        for (String p : List.of("/data/inbox/abs-link", "/data/inbox/rel-link", "/data/inbox/dir-link/secret.txt", escape, outside + "/secret.txt"))
            assertThat(r.path("read " + p).asText()).as(p).startsWith("err:").isNotEqualTo("err:PermissionError");
        assertThat(r.path("write /data/inbox/new.txt").asText()).isEqualTo("err:OSError"); // EROFS
        assertThat(Files.exists(host.resolve("approved/inbox/new.txt"))).isFalse();
        assertThat(r.path("listdir /").toString()).contains("data").doesNotContain(dir.getFileName().toString());
    }

    @Test
    void aGrantSwappedForASymlinkAfterDeployIsRefusedAtTheNextBoot() throws Exception {
        Path swap = Files.createDirectories(host.resolve("approved/swap"));
        assertThat(deploy("swapped", "permissions:\n  filesystem: {read: [\"/data/swap\"]}\n").status()).isEqualTo(201);
        Files.delete(swap);
        Files.createSymbolicLink(swap, outside);
        JsonNode t = http.post("/v1/tasks", Map.of("agent", "swapped", "wait", true, "input", Map.of("read", List.of("/data/swap/secret.txt")))).body();
        assertThat(t.path("state").asText()).isEqualTo("failed");
        assertThat(t.path("error").path("code").asText()).isEqualTo("policy_denied");
        assertThat(t.path("error").path("message").asText()).contains("/data/swap").contains("symbolic link");
        assertThat(t.path("lifecycle").toString()).doesNotContain("\"hot\"");
    }

    @Test
    void writesStayInTheGrantAndEachIsAudited() throws Exception {
        assertThat(deploy("writer", "permissions:\n  filesystem: {write: [\"/data/out\"], read: [\"/data/inbox\"]}\n").status()).isEqualTo(201);
        Path out = host.resolve("approved/out");
        JsonNode t = http.post("/v1/tasks", Map.of("agent", "writer", "wait", true, "input", Map.of(
                "write", List.of("/data/out/new.txt", "/data/out/escape-dir/pwned.txt", "/data/inbox/pwned.txt"),
                "read", List.of("/data/out/link-to-passwd"),
                "ops", List.of(List.of("append", "/data/out/existing.txt", "more\n"), List.of("rm", "/data/out/gone.txt"),
                        List.of("mkdir", "/data/out/sub"), List.of("symlink", "/data/out/link-to-passwd", "/etc/passwd"))))).body();
        JsonNode r = t.path("result");
        assertThat(r.path("write /data/out/new.txt").asText()).as(t.toString()).isEqualTo("ok:5");
        assertThat(r.path("write /data/out/escape-dir/pwned.txt").asText()).startsWith("err:");
        assertThat(r.path("write /data/inbox/pwned.txt").asText()).startsWith("err:");
        assertThat(r.path("symlink /data/out/link-to-passwd").asText()).startsWith("ok:");
        // The agent's own link resolves inside its sandbox: AEGIS's passwd, not the host's.
        assertThat(r.path("read /data/out/link-to-passwd").asText()).isEqualTo("ok:aegis:x:1000:1000:aegis agent:/workspace:/bin/sh");
        assertThat(Files.readString(out.resolve("new.txt"))).isEqualTo("pwned");
        assertThat(Files.readString(out.resolve("existing.txt"))).isEqualTo("old\nmore\n");
        assertThat(out.resolve("gone.txt")).doesNotExist();
        assertThat(outside.resolve("pwned.txt")).doesNotExist();
        assertThat(Files.list(outside).toList()).hasSize(1);

        String task = t.path("id").asText();
        List<String> writes = new ArrayList<>();
        for (JsonNode rec : http.get("/v1/audit?action=fs.write&task=" + task).body().path("records"))
            writes.add(rec.path("details").path("change").asText() + " " + rec.path("details").path("path").asText() + " "
                    + rec.path("details").path("size").asText());
        assertThat(writes).containsExactly("changed /data/out/existing.txt 9", "deleted /data/out/gone.txt 0",
                "created /data/out/link-to-passwd 11", "created /data/out/new.txt 5", "created /data/out/sub 4096");
        JsonNode summary = http.get("/v1/audit?action=fs.write.summary&task=" + task).body().path("records").get(0).path("details");
        assertThat(summary.path("created").asText()).isEqualTo("3");
        assertThat(summary.path("truncated").asText()).isEqualTo("false");
        // Recorded before the task's end.
        List<String> actions = new ArrayList<>();
        http.get("/v1/audit?task=" + task).body().path("records").forEach(rec -> actions.add(rec.path("action").asText()));
        assertThat(actions.indexOf("fs.write.summary")).isLessThan(actions.indexOf("task.result")).isGreaterThan(actions.indexOf("lifecycle.hot"));
    }

    /** The same boundaries in a Docker container (uid 1000 on the host, so its write folder is handed to that uid). */
    @Test
    void dockerContainersKeepTheSameBoundaries() throws Exception {
        Path box = Files.createDirectories(host.resolve("approved/out/docker"));
        Files.setAttribute(box, "unix:uid", 1000);
        Files.setAttribute(box, "unix:gid", 1000);
        Files.createSymbolicLink(box.resolve("escape-dir"), outside);
        assertThat(deploy("boxed", "docker", "permissions:\n  filesystem: {read: [\"/data/inbox\"], write: [\"/data/out/docker\"]}\n")
                .status()).isEqualTo(201);
        String escape = "/data/inbox/../../.." + outside + "/secret.txt";
        JsonNode t = http.post("/v1/tasks", Map.of("agent", "boxed", "wait", true, "input", Map.of(
                "read", List.of("/data/inbox/hello.txt", "/data/inbox/abs-link", "/data/inbox/rel-link", "/data/inbox/dir-link/secret.txt", escape),
                "write", List.of("/data/out/docker/new.txt", "/data/out/docker/escape-dir/pwned.txt", "/data/inbox/pwned.txt")))).body();
        JsonNode r = t.path("result");
        assertThat(r.path("read /data/inbox/hello.txt").asText()).as(t.toString()).isEqualTo("ok:hello from the host");
        for (String p : List.of("/data/inbox/abs-link", "/data/inbox/rel-link", "/data/inbox/dir-link/secret.txt", escape))
            assertThat(r.path("read " + p).asText()).as(p).startsWith("err:");
        assertThat(r.path("write /data/out/docker/new.txt").asText()).isEqualTo("ok:5");
        assertThat(r.path("write /data/out/docker/escape-dir/pwned.txt").asText()).startsWith("err:");
        assertThat(r.path("write /data/inbox/pwned.txt").asText()).startsWith("err:");
        assertThat(Files.readString(box.resolve("new.txt"))).isEqualTo("pwned");
        assertThat(Files.list(outside).toList()).hasSize(1);
        assertThat(http.get("/v1/audit?action=fs.write&task=" + t.path("id").asText()).body().path("records").findValuesAsText("path"))
                .containsExactly("/data/out/docker/new.txt");
    }

    @Test
    void theWriteAuditIsBoundedAndSaysSo() throws Exception {
        assertThat(deploy("flood", "resources: {timeout: 120s, pids: 16}\npermissions:\n  filesystem: {write: [\"/data/out\"]}\n").status()).isEqualTo(201);
        Files.createDirectories(host.resolve("approved/out/flood"));
        JsonNode t = http.post("/v1/tasks", Map.of("agent", "flood", "wait", true, "timeout_ms", 120_000,
                "input", Map.of("ops", List.of(List.of("many", "/data/out/flood", 10_050))))).body();
        assertThat(t.path("result").path("many /data/out/flood").asText()).as(t.toString()).isEqualTo("ok:10050");
        String task = t.path("id").asText();
        JsonNode summary = http.get("/v1/audit?action=fs.write.summary&task=" + task).body().path("records").get(0).path("details");
        assertThat(summary.path("truncated").asText()).isEqualTo("true");
        assertThat(summary.path("max_scanned").asText()).isEqualTo("10000");
        int created = summary.path("created").asInt();
        assertThat(created).isBetween(9_000, 10_000);
        int changes = created + summary.path("changed").asInt() + summary.path("deleted").asInt();
        assertThat(summary.path("unaudited").asInt()).isEqualTo(changes - 1_000);
        assertThat(http.get("/v1/audit?action=fs.write&task=" + task + "&limit=5000").body().path("records")).hasSize(1_000);
        // The other tests share /data/out: past the cap their own listings would be cut too.
        try (var files = Files.walk(host.resolve("approved/out/flood"))) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    @Test
    void tenantFoldersAreKeptApartByTheTenantPlaceholder() throws Exception {
        Http acme = new Http(node.url(), http.post("/v1/keys", Map.of("tenant", "acme", "role", "admin")).body().path("key").asText());
        String yaml = "permissions:\n  filesystem: {write: [\"/tenant\"]}\n";
        assertThat(deploy("scribe", yaml).status()).isEqualTo(201);
        assertThat(acme.upload("/v1/agents", TarGz.pack(dir.resolve("agents/scribe"))).status()).isEqualTo(201);
        for (Http who : List.of(http, acme)) {
            JsonNode t = who.post("/v1/tasks", Map.of("agent", "scribe", "wait", true, "input", Map.of("write", List.of("/tenant/mine.txt"),
                    "read", List.of("/tenant/mine.txt")))).body();
            assertThat(t.path("result").path("write /tenant/mine.txt").asText()).as(t.toString()).isEqualTo("ok:5");
        }
        assertThat(host.resolve("tenants/default/mine.txt")).exists();
        assertThat(host.resolve("tenants/acme/mine.txt")).exists();
        assertThat(Files.list(host.resolve("tenants")).map(p -> p.getFileName().toString()).toList()).containsExactlyInAnyOrder("default", "acme");
    }

    // ---- helpers ----

    private Http.Response deploy(String name, String yamlExtra) throws Exception {
        return deploy(name, "bubblewrap", yamlExtra);
    }

    private Http.Response deploy(String name, String runtime, String yamlExtra) throws Exception {
        Path d = Files.createDirectories(dir.resolve("agents/" + name));
        Files.writeString(d.resolve("agent.yaml"), "name: " + name + "\nversion: 1.0.0\nruntime: " + runtime + "\n"
                + "entrypoint: [\"python3\", \"agent.py\"]\n" + yamlExtra);
        Files.writeString(d.resolve("agent.py"), PROBE);
        return http.upload("/v1/agents", TarGz.pack(d));
    }

    private JsonNode run(String agent, Object input) throws Exception {
        JsonNode t = http.post("/v1/tasks", Map.of("agent", agent, "wait", true, "input", input)).body();
        assertThat(t.path("state").asText()).as(t.toString()).isEqualTo("succeeded");
        return t.path("result");
    }
}
