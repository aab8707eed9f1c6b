package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpServer;
import dev.aegis.core.HostFolders;
import dev.aegis.llm.LocalModelServer;
import dev.aegis.runtime.bubblewrap.BubblewrapRuntime;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Runs real agents through the whole AEGIS flow on an embedded orchestrator, and explains each step.", "",
                "Starts a node in a fresh temp data folder (SQLite, no external service), deploys the example agents",
                "over the HTTP API with a freshly minted admin key, runs tasks in bubblewrap sandboxes, and prints each",
                "result, the task's logs, its lifecycle with timings, a refused manifest, a failing agent, a swarm under",
                "a lock, an agent's second run finding what its first run learned (memory), the seed's email",
                "summarizer (Cortex, an MCP mailbox server in its own sandbox, an LLM with the tenant's key), and where",
                "the data went.", "", "Example:", "  aegis demo", "  aegis demo --data /tmp/aegis-demo"})
final class DemoCommand implements java.util.concurrent.Callable<Integer> {
    private static final String TEXT = "AEGIS runs each agent task in a fresh, isolated sandbox. "
            + "The sandbox is destroyed when the task ends, so no state leaks between tasks. "
            + "Agents may do only what their manifest allows, and everything else is denied by default. "
            + "Operators like that the platform keeps a record of every lifecycle transition. "
            + "The weather was pleasant on the day this sentence was written. "
            + "A sandbox gets no network, a read-only root, and a small private workspace.";

    @Option(names = "--data", description = "data folder to use (default: a new temp folder, kept afterwards)")
    Path data;

    @Override
    public Integer call() throws Exception {
        Path dir = data != null ? data.toAbsolutePath() : Files.createTempDirectory("aegis-demo-");
        System.out.println("AEGIS demo: real agents, real sandboxes, real storage.");
        System.out.println("  data folder: " + dir);
        step(1, "starting an embedded orchestrator");
        Path examples = Bundled.extractExamples(dir.resolve("examples"));
        Node.Config config = Node.Config.embedded(dir).withApi("127.0.0.1", 0, java.util.List.of(examples));
        Path mail = mailbox(examples.resolve("email-summarizer/mailbox"), dir.resolve("mail"));
        Optional<Path> mcpServers = mcpServers();
        List<HostFolders.Approved> folders = new ArrayList<>(List.of(HostFolders.Approved.parse(mail + "=/mail", false)));
        mcpServers.ifPresent(m -> folders.add(HostFolders.Approved.parse(m + "=/opt/mcp", false)));
        config = config.withSecurity(config.security().withFolders(folders));
        try (Node node = new Node(config)) {
            node.orchestrator().runtimes().values().forEach(r -> say("runtime " + r.name() + ": " + r.description()));
            say("HTTP API on " + node.url() + ", agent API on " + dir.resolve("run/agent.sock"));
            // Step 6 needs the embedding model; it loads (a few seconds) in the background while steps 2-5 run.
            var model = node.memory().preload();
            say("memory (Cortex): embedding model " + node.memory().embedder().id() + " loading in the background, for step 6");
            String key = node.firstAdminKey().orElseGet(() -> node.keys().create("default", "admin").plaintext());
            step(2, "authenticating with an admin API key (minted now, stored only as a salted hash)");
            say(key.substring(0, 21) + "…");
            Client client = new Client();
            client.url = node.url();
            client.key = key;

            step(3, "deploying the example agents over the HTTP API (tar.gz upload, manifest validated)");
            for (String ex : Bundled.EXAMPLES) deploy(client, examples.resolve(ex));
            Path broken = badAgent(dir.resolve("examples/broken"), "resources: {memory: 12XB}\n", "exit 0");
            try {
                deploy(client, broken);
            } catch (IllegalStateException e) {
                say("refused, as it should be: " + e.getMessage());
            }

            step(4, "running tasks: policy check -> fresh sandbox -> execution -> store -> cleanup");
            run(client, "summarizer", Map.of("text", TEXT, "sentences", 2));
            run(client, "file-indexer", Map.of("documents", Map.of(
                    "notes.txt", "sandbox isolation keeps agents apart\nnetwork is denied by default\n",
                    "todo.txt", "write the audit log\ncheck the sandbox limits\n"), "query", "sandbox network"));
            deploy(client, badAgent(dir.resolve("examples/crasher"), "",
                    "echo 'about to fail on purpose' >&2; exit 3"));
            run(client, "crasher", Map.of());
            egress(client, dir.resolve("examples/fetcher"));

            step(5, "a swarm: a coordinator fans out to 4 workers that update one ledger under a lock");
            swarm(client);

            step(6, "memory: a second run finds what the first run learned");
            if (!model.isDone()) say("waiting for the embedding model to finish loading...");
            say(String.format("embedding model ready (loaded in %.1f s); every ended task so far is being remembered",
                    model.get().toMillis() / 1000.0));
            say("run 1 is told how an incident was fixed; it only logs it. AEGIS indexes its logs and result after it ends.");
            JsonNode first = run(client, "oncall", Map.of("incident", "checkout pods OOMKilled right after the 3.2 deploy",
                    "fix", "raised the checkout memory limit to 1Gi and capped the PDF receipt renderer at 200 line items"));
            long t0 = System.nanoTime();
            node.memory().awaitIndexed(java.time.Duration.ofMinutes(2));
            say(String.format("indexed in the background; %d memories in tenant default now (waited %d ms here)",
                    node.memory().stats("default").memories(), (System.nanoTime() - t0) / 1_000_000));
            say("run 2 asks about the same trouble in other words, in a fresh sandbox that shares nothing with run 1");
            JsonNode second = run(client, "oncall", Map.of("incident", "the checkout service keeps getting killed for using too much RAM"));
            JsonNode learned = second.path("result").path("known_fix");
            boolean fromFirst = second.path("result").path("from_task").asText().equals(first.path("id").asText());
            say(learned.isTextual() && learned.asText().contains("1Gi") && fromFirst
                    ? "run 2 found what run 1 learned, from task " + first.path("id").asText() + ":\n    " + learned.asText()
                    : "run 2 did not find run 1's fix (unexpected): " + second.path("result"));
            JsonNode found = client.get("/v1/memory/search?q=" + java.net.URLEncoder.encode("checkout killed out of memory",
                    java.nio.charset.StandardCharsets.UTF_8) + "&agent=oncall&limit=2");
            say("the same memory through the API (aegis memory search \"checkout killed out of memory\" --agent oncall):");
            for (JsonNode h : found.path("hits"))
                say(String.format("  [%s, similarity %.2f] %s", h.path("kind").asText(), h.path("similarity").asDouble(),
                        h.path("text").asText().lines().filter(l -> l.contains("fix")).findFirst()
                                .orElse(h.path("text").asText().lines().findFirst().orElse(""))));

            step(7, "the seed's example: an agent summarizes today's email (Cortex, MCP tools, LLM with the tenant's key)");
            emailSummarizer(client, node, examples.resolve("email-summarizer"));

            step(8, "where the data went");
            say("metadata (SQLite):     " + dir.resolve("aegis.db"));
            say("agent code (immutable): " + dir.resolve("agents/default"));
            say("agent library:          " + dir.resolve("lib/python/aegis_agent"));
            say("memory (Lucene):        " + dir.resolve("memory/default"));
            Path sandboxes = BubblewrapRuntime.instanceRoot(dir.resolve("run/bubblewrap"));
            try (Stream<Path> left = Files.isDirectory(sandboxes) ? Files.list(sandboxes) : Stream.empty()) {
                long instances = left.filter(p -> Files.isDirectory(p) && p.getFileName().toString().startsWith("i-")).count();
                say("sandboxes left behind:  " + instances + " (each was destroyed after its one task; warm ones wait for theirs)");
            }
        }
        System.out.println("\nDone. Inspect with: sqlite3 " + dir.resolve("aegis.db") + " 'select id, agent, state from tasks'");
        return 0;
    }

    /**
     * The seed's data flow: the mailbox is a real MCP server (the npm filesystem server over a folder of .eml files)
     * that AEGIS runs in its own sandbox; the LLM is the tenant's provider (OpenAI when OPENAI_API_KEY is set, else the
     * local OpenAI-compatible server AEGIS ships, which answers deterministically). Runs twice: the second run finds
     * the first one's session in Cortex.
     */
    private static void emailSummarizer(Client client, Node node, Path example) throws Exception {
        if (mcpServers().isEmpty()) {
            say("skipped: the mailbox's MCP server (npm @modelcontextprotocol/server-filesystem) is not installed;");
            say("install it with tools/mcp-servers.sh (./aegis demo does) or set AEGIS_MCP_SERVERS to its folder");
            return;
        }
        JsonNode server = client.post("/v1/tools/servers", Client.JSON.readTree(example.resolve("mail-server.json").toFile()));
        say("tool server \"mail\" registered (aegis tools add mail-server.json): " + server.path("command"));
        say("its tools, as the agent's manifest may grant them (aegis tools test mail): "
                + client.send(client.request("/v1/tools/servers/mail/test").POST(HttpRequest.BodyPublishers.noBody()).build())
                .path("tools").findValuesAsText("name"));
        String realKey = System.getenv("OPENAI_API_KEY");
        LocalModelServer local = null;
        try {
            String key = realKey;
            String baseUrl = System.getenv().getOrDefault("OPENAI_BASE_URL", "https://api.openai.com/v1");
            if (realKey == null || realKey.isBlank()) {
                key = "demo-" + java.util.UUID.randomUUID();
                local = LocalModelServer.start("127.0.0.1", 0).requireKey(key);
                baseUrl = local.openAiBaseUrl();
                say("no LLM provider configured (set OPENAI_API_KEY, and OPENAI_BASE_URL for another OpenAI-compatible API,");
                say("to use yours): using AEGIS's local OpenAI-compatible server at " + baseUrl + " (deterministic answers)");
            }
            client.send(client.request("/v1/secrets/LLM_API_KEY").header("Content-Type", "application/json")
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(Client.JSON.writeValueAsString(Map.of("value", key)))).build());
            client.send(client.request("/v1/llm/provider").header("Content-Type", "application/json")
                    .PUT(java.net.http.HttpRequest.BodyPublishers.ofString(Client.JSON.writeValueAsString(
                            Map.of("kind", "openai", "base_url", baseUrl, "key_secret", "LLM_API_KEY")))).build());
            say("provider set; its key is the tenant secret LLM_API_KEY: AEGIS adds it upstream, the sandbox never sees it");
            deploy(client, example);
            JsonNode first = run(client, "email-summarizer", Map.of());
            say("run 2, later: Cortex gives it the first run's session as a similar past task");
            node.memory().awaitIndexed(java.time.Duration.ofMinutes(1));
            JsonNode second = client.post("/v1/tasks", Map.of("agent", "email-summarizer", "input", Map.of(), "wait", true));
            say("task " + second.path("id").asText() + ": " + second.path("state").asText().toUpperCase() + "; past summaries found: "
                    + second.path("result").path("past_summaries") + (second.path("result").path("past_summaries").toString()
                    .contains(first.path("id").asText()) ? " (run 1's)" : ""));
            JsonNode calls = client.get("/v1/audit?limit=20&agent=email-summarizer&action=tool.call").path("records");
            say("audit: " + calls.size() + " tool calls (" + calls.findValuesAsText("target").stream().distinct().toList()
                    + "), LLM tokens metered on the task: " + second.path("llm").path("total_tokens").asLong());
        } finally {
            if (local != null) local.close();
        }
    }

    /** The example's mailbox, copied with its dates moved so that its "today" (26 Nov 2026) is today. */
    private static Path mailbox(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        long shift = java.time.temporal.ChronoUnit.DAYS.between(java.time.LocalDate.of(2026, 11, 26),
                java.time.LocalDate.now(java.time.ZoneOffset.UTC));
        var rfc = java.time.format.DateTimeFormatter.RFC_1123_DATE_TIME;
        try (Stream<Path> mails = Files.list(from)) {
            for (Path m : mails.toList()) {
                String text = Files.readString(m).lines().map(l -> l.startsWith("Date: ")
                        ? "Date: " + rfc.format(java.time.ZonedDateTime.parse(l.substring(6), rfc).plusDays(shift)) : l)
                        .collect(java.util.stream.Collectors.joining("\n", "", "\n"));
                Files.writeString(to.resolve(m.getFileName()), text);
            }
        }
        return to;
    }

    /** Where tools/mcp-servers.sh installed the npm MCP servers, if it did. */
    private static Optional<Path> mcpServers() {
        String env = System.getenv("AEGIS_MCP_SERVERS");
        Path dir = env != null ? Path.of(env) : Path.of(System.getProperty("user.home"), ".cache/aegis/mcp-servers");
        return Files.isRegularFile(dir.resolve("node_modules/@modelcontextprotocol/server-filesystem/package.json"))
                ? Optional.of(dir.toAbsolutePath()) : Optional.empty();
    }

    private static void deploy(Client client, Path folder) throws Exception {
        JsonNode a = client.send(client.request("/v1/agents").header("Content-Type", "application/gzip")
                .POST(HttpRequest.BodyPublishers.ofByteArray(TarGz.pack(folder))).build());
        say("deployed " + a.path("name").asText() + " " + a.path("version").asText() + " digest "
                + a.path("digest").asText().substring(0, 12) + " runtime " + a.path("runtime").asText());
    }

    private static JsonNode run(Client client, String agent, Map<String, Object> input) throws Exception {
        System.out.println("\n  -- " + agent + " --");
        JsonNode t = client.post("/v1/tasks", Map.of("agent", agent, "input", input, "wait", true));
        say("task " + t.path("id").asText() + ": " + t.path("state").asText().toUpperCase());
        say("logs:");
        for (JsonNode l : client.get("/v1/tasks/" + t.path("id").asText() + "/logs").path("logs"))
            say("  | " + l.path("line").asText());
        say("lifecycle:");
        for (JsonNode s : t.path("lifecycle"))
            say(String.format("  %-10s +%4d ms  %s", s.path("state").asText(), s.path("after_ms").asLong(), s.path("reason").asText()));
        if (t.has("result")) say("result: " + t.path("result"));
        if (t.has("error")) say("error: " + t.path("error").path("code").asText() + ": " + t.path("error").path("message").asText());
        return t;
    }

    /** The swarm example: its task tree, how often workers queued for the lock, and the ledger's final count. */
    private static void swarm(Client client) throws Exception {
        JsonNode t = client.post("/v1/tasks", Map.of("agent", "swarm-coordinator", "input", Map.of("workers", 4, "increments", 5),
                "wait", true));
        say("task tree (aegis tasks tree " + t.path("id").asText() + "):");
        say("  " + TasksTree.line(t));
        JsonNode children = client.get("/v1/tasks/" + t.path("id").asText() + "/children").path("children");
        int waits = 0, grants = 0;
        for (int i = 0; i < children.size(); i++) {
            JsonNode c = children.get(i);
            say("  " + (i == children.size() - 1 ? "└── " : "├── ") + TasksTree.line(c));
            String audit = "/v1/audit?limit=1000&task=" + c.path("id").asText() + "&action=";
            waits += client.get(audit + "lock.wait").path("records").size();
            grants += client.get(audit + "lock.grant").path("records").size();
        }
        say("lock \"ledger\": " + grants + " grants, " + waits + " of them after waiting in the FIFO queue (audit: lock.wait)");
        JsonNode r = t.path("result");
        say("ledger: count " + r.path("count").asInt() + " (expected " + r.path("expected").asInt() + "), " + r.path("writes").asInt()
                + " writes, fencing tokens always rising: " + r.path("tokens_increase").asBoolean()
                + (r.path("correct").asBoolean() ? "  -> correct" : "  -> WRONG"));
    }

    /** An agent allowed one loopback site (127.0.0.2) fetches it and a site not listed, through the egress proxy. */
    private static void egress(Client client, Path folder) throws Exception {
        HttpServer site = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.2"), 0), 0);
        site.createContext("/", ex -> {
            byte[] body = "hello from the allowed site".getBytes(java.nio.charset.StandardCharsets.UTF_8);
            ex.sendResponseHeaders(200, body.length);
            ex.getResponseBody().write(body);
            ex.close();
        });
        site.start();
        try {
            int port = site.getAddress().getPort();
            Files.createDirectories(folder);
            Files.writeString(folder.resolve("agent.yaml"), "name: fetcher\nversion: 1.0.0\nruntime: bubblewrap\n"
                    + "entrypoint: [\"python3\", \"agent.py\"]\npermissions:\n  network: {egress: [\"127.0.0.2:" + port + "\"]}\n");
            Files.writeString(folder.resolve("agent.py"), """
                    import urllib.error, urllib.request
                    from aegis_agent import task, result
                    out = {}
                    for url in task["urls"]:
                        try:
                            out[url] = urllib.request.urlopen(url, timeout=10).read().decode()
                        except urllib.error.HTTPError as e:
                            out[url] = "HTTP %d: %s" % (e.code, e.read().decode().strip())
                    result(out)
                    """);
            deploy(client, folder);
            run(client, "fetcher", Map.of("urls", java.util.List.of("http://127.0.0.2:" + port + "/", "http://127.0.0.3:" + port + "/")));
            // An allowed attempt is recorded when its connection ends, a moment after the task.
            JsonNode records = null;
            for (int i = 0; i < 40 && (records == null || records.size() < 2); i++, Thread.sleep(50))
                records = client.get("/v1/audit?limit=10&agent=fetcher&action=egress.request").path("records");
            say("egress audit (the proxy records every attempt):");
            for (JsonNode r : records)
                say("  " + r.path("decision").asText() + " " + r.path("target").asText() + " bytes up/down "
                        + r.path("details").path("bytes_up").asText() + "/" + r.path("details").path("bytes_down").asText()
                        + (r.path("reason").asText().isEmpty() ? "" : "  (" + r.path("reason").asText() + ")"));
        } finally {
            site.stop(0);
        }
    }

    private static Path badAgent(Path dir, String extraYaml, String script) throws IOException {
        Files.createDirectories(dir);
        String name = dir.getFileName().toString();
        Files.writeString(dir.resolve("agent.yaml"), "name: " + name + "\nversion: 1.0.0\nruntime: bubblewrap\n"
                + "entrypoint: [\"sh\", \"-c\", \"" + script.replace("\"", "\\\"") + "\"]\n" + extraYaml);
        return dir;
    }

    private static void step(int n, String what) {
        System.out.println("\n[" + n + "/8] " + what);
    }

    private static void say(String line) {
        System.out.println("  " + line);
    }
}
