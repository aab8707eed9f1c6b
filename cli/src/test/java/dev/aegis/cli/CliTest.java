package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** The {@code aegis} commands as a user types them, against a live node. */
class CliTest {
    @TempDir
    Path dir;

    record Run(int code, String out, String err) {}

    static synchronized Run aegis(String... args) {
        PrintStream out = System.out, err = System.err;
        ByteArrayOutputStream o = new ByteArrayOutputStream(), e = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
            int code = Main.commandLine().execute(args);
            return new Run(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
        } finally {
            System.setOut(out);
            System.setErr(err);
        }
    }

    @Test
    void clientCommandsDriveAServer() {
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of()))) {
            String[] conn = {"--url", node.url(), "--key", node.firstAdminKey().orElseThrow()};
            Run deploy = aegis(concat(new String[]{"agents", "deploy", examples.resolve("summarizer").toString()}, conn));
            assertThat(deploy.code()).as(deploy.err()).isZero();
            assertThat(deploy.out()).startsWith("deployed summarizer 1.0.0");
            assertThat(aegis(concat(new String[]{"agents", "list"}, conn)).out()).contains("summarizer").contains("bubblewrap");

            Run submit = aegis(concat(new String[]{"tasks", "submit", "summarizer", "--wait", "--input",
                    "{\"text\": \"First point here. Second point there.\", \"sentences\": 1}"}, conn));
            assertThat(submit.code()).as(submit.err()).isZero();
            assertThat(submit.out()).contains("\"state\" : \"succeeded\"").contains("\"summary\"");
            String id = submit.out().replaceAll("(?s).*?\"id\" : \"([^\"]+)\".*", "$1");
            assertThat(aegis(concat(new String[]{"tasks", "get", id}, conn)).out()).contains("\"lifecycle\"");
            assertThat(aegis(concat(new String[]{"tasks", "logs", id}, conn)).out()).contains("summarizing");
            assertThat(aegis(concat(new String[]{"tasks", "logs", id, "--follow"}, conn)).out()).contains("summarizing");

            Run unknown = aegis(concat(new String[]{"tasks", "submit", "nope"}, conn));
            assertThat(unknown.code()).isEqualTo(2);
            assertThat(unknown.err()).contains("agent \"nope\" is not deployed").contains("HTTP 404");
            Run created = aegis(concat(new String[]{"keys", "create", "--role", "reader", "--tenant", "acme"}, conn));
            assertThat(created.code()).as(created.err()).isZero();
            assertThat(created.out().strip()).startsWith("aeg_live_");
            String keyId = created.out().strip().substring(9, 21);
            assertThat(aegis(concat(new String[]{"keys", "list", "--tenant", "acme"}, conn)).out()).contains(keyId).contains("reader");
            assertThat(aegis(concat(new String[]{"keys", "revoke", keyId, "--tenant", "acme"}, conn)).out()).startsWith("revoked " + keyId);
            assertThat(aegis("agents", "list", "--url", node.url(), "--key", created.out().strip()).err()).contains("invalid or revoked");
            Run noKey = aegis("agents", "list", "--url", node.url(), "--key", "wrong");
            assertThat(noKey.code()).isEqualTo(2);
            assertThat(noKey.err()).contains("invalid or revoked API key");
        }
    }

    @Test
    void runExecutesAnAgentFolderWithoutAServer() {
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        Run ok = aegis("run", examples.resolve("summarizer").toString(), "--data", dir.resolve("data").toString(),
                "--input", "{\"text\": \"Alpha beta. Gamma delta. Alpha again.\", \"sentences\": 1}");
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).contains("\"summary\"");
        assertThat(ok.err()).contains("[summarizer] summarizing");
        Run bad = aegis("run", examples.resolve("summarizer").toString(), "--data", dir.resolve("data").toString(),
                "--input", "{\"text\": \"\"}");
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.err()).contains("failed: exit_code");
        // Both runs were remembered before their node closed: the memory is in the data folder for the next node.
        try (Node node = new Node(Node.Config.embedded(dir.resolve("data")))) {
            var hits = node.memory().search(dev.aegis.core.Memory.Query.of("default", "Alpha beta. Gamma delta. Alpha again.", 5)).hits();
            assertThat(hits).anySatisfy(h -> {
                assertThat(h.agent()).isEqualTo("summarizer");
                assertThat(h.text()).contains("Alpha beta");
            });
            assertThat(node.memory().stats("default").byAgent().get("summarizer")).isGreaterThanOrEqualTo(2);
        }
    }

    @Test
    void everyCommandExplainsItselfWithAnExample() {
        List<String> missing = new ArrayList<>();
        walk(Main.commandLine(), missing);
        assertThat(missing).isEmpty();
    }

    private static void walk(CommandLine cl, List<String> missing) {
        String help = cl.getUsageMessage();
        if (!cl.getCommandName().equals("help") && !help.contains("Example")) missing.add(cl.getCommandSpec().qualifiedName());
        cl.getSubcommands().values().forEach(sub -> walk(sub, missing));
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }
}
