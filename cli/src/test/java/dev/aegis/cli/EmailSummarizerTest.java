package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.HostFolders;
import dev.aegis.llm.LocalModelServer;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The seed's data-flow example as shipped in examples/email-summarizer: the agent queries Cortex, lists and reads the
 * day's mail through a real MCP filesystem server (npm) in its own sandbox, asks the tenant's LLM (the local
 * OpenAI-compatible server, which checks the key AEGIS adds), stores its session, and returns its summary. A second
 * run finds the first one's session.
 */
class EmailSummarizerTest {
    private static final Path EXAMPLE = Path.of("..", "examples", "email-summarizer").toAbsolutePath().normalize();
    private static final String KEY = "sk-email-summarizer-test-key-7f3a";

    @TempDir
    Path dir;

    @BeforeAll
    static void install() throws Exception {
        McpToolsTest.install();
    }

    @Test
    void summarizesTheDaysMailWithToolsMemoryAndTheTenantsModel() throws Exception {
        Node.Config config = Node.Config.embedded(dir.resolve("data")).withApi("127.0.0.1", 0, List.of());
        config = config.withSecurity(config.security().withFolders(List.of(
                HostFolders.Approved.parse(McpToolsTest.servers + "=/opt/mcp", false),
                HostFolders.Approved.parse(EXAMPLE.resolve("mailbox") + "=/mail", false))));
        try (Node node = new Node(config); LocalModelServer model = LocalModelServer.start("127.0.0.1", 0).requireKey(KEY)) {
            Http http = new Http(node.url(), node.firstAdminKey().orElseThrow());
            assertThat(SecretsTest.put(http, "LLM_API_KEY", KEY).status()).isEqualTo(201);
            Http.Response set = http.send(http.builder("/v1/llm/provider").header("Content-Type", "application/json")
                    .PUT(HttpRequest.BodyPublishers.ofString("{\"kind\": \"openai\", \"base_url\": \"" + model.openAiBaseUrl()
                            + "\", \"key_secret\": \"LLM_API_KEY\"}")));
            assertThat(set.status()).as(set.body().toString()).isEqualTo(201);
            node.tools().add("default", Files.readString(EXAMPLE.resolve("mail-server.json")));
            Http.Response deployed = http.upload("/v1/agents", TarGz.pack(EXAMPLE));
            assertThat(deployed.status()).as(deployed.body().toString()).isEqualTo(201);

            JsonNode first = run(http, "2026-11-26");
            JsonNode r = first.path("result");
            assertThat(r.path("subjects")).extracting(JsonNode::asText).containsExactly("Checkout outage postmortem due Friday",
                    "Team offsite moved to December 9", "Invoice INV-2026-1187 is overdue", "Your weekly digest");
            // The local model answers with the prompt's weightiest sentences: the summary came from the mail, through the LLM.
            assertThat(r.path("summary").asText()).contains("The checkout outage on Tuesday lasted 41 minutes")
                    .contains("Invoice INV-2026-1187 for 4,320 EUR").doesNotContain("pumpkin").doesNotContain("pager rotation");
            assertThat(model.requests()).isEqualTo(1);
            assertThat(model.lastKey()).contains(KEY);
            assertThat(r.path("llm_tokens").asLong()).isPositive().isEqualTo(first.path("llm").path("total_tokens").asLong());
            assertThat(r.path("past_summaries")).isEmpty();
            String logs = http.get("/v1/tasks/" + first.path("id").asText() + "/logs").body().toString();
            assertThat(logs).contains("mail: 5 messages in /mail").contains("4 of them from 2026-11-26").doesNotContain(KEY);

            List<String> calls = new ArrayList<>();
            for (JsonNode rec : http.get("/v1/audit?action=tool.call&agent=email-summarizer").body().path("records"))
                calls.add(rec.path("target").asText() + " " + rec.path("decision").asText());
            assertThat(calls).hasSize(6).startsWith("tool:mail.list_directory allow").containsOnly("tool:mail.list_directory allow",
                    "tool:mail.read_text_file allow");
            assertThat(http.get("/v1/audit?action=llm.call&agent=email-summarizer").body().path("records").get(0)
                    .path("decision").asText()).isEqualTo("allow");

            // Run 2 finds run 1's stored session; a day without mail needs no model.
            node.memory().awaitIndexed(java.time.Duration.ofMinutes(1));
            JsonNode second = run(http, "2026-11-26");
            assertThat(second.path("result").path("past_summaries")).extracting(JsonNode::asText).contains(first.path("id").asText());
            JsonNode empty = run(http, "2026-11-20");
            assertThat(empty.path("result").path("summary").asText()).isEqualTo("No mail on 2026-11-20.");
            assertThat(model.requests()).isEqualTo(2);
        }
    }

    private static JsonNode run(Http http, String day) throws Exception {
        JsonNode t = http.post("/v1/tasks", Map.of("agent", "email-summarizer", "wait", true, "input", Map.of("day", day))).body();
        assertThat(t.path("state").asText()).as(t::toString).isEqualTo("succeeded");
        return t;
    }
}
