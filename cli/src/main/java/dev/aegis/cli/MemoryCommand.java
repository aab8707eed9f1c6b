package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "memory", mixinStandardHelpOptions = true,
        description = {"Searches, sizes and deletes the tenant's memory (Cortex): what agents' past tasks left behind.", "",
                "Example:", "  aegis memory search \"why did the billing deploy fail\" --agent deploy-bot --limit 3",
                "  aegis memory stats", "  aegis memory delete --task 0b6f…"},
        subcommands = {MemoryCommand.Search.class, MemoryCommand.Stats.class, MemoryCommand.Delete.class})
final class MemoryCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "search", mixinStandardHelpOptions = true,
            description = {"Best memories for a question: meaning and words, newer and well-rated first.", "",
                    "Example:", "  aegis memory search \"flaky upload test\" --kind result --success true --budget 300"})
    static final class Search implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(index = "0", description = "what to look for")
        String query;

        @Option(names = "--agent", split = ",", description = "only these namespaces: agent names or a shared memory_namespace (repeatable)")
        List<String> agents = List.of();

        @Option(names = "--kind", split = ",", description = "log, tool_output, result, feedback or note (repeatable)")
        List<String> kinds = List.of();

        @Option(names = "--task", description = "only memories of this task")
        String task;

        @Option(names = "--success", description = "true: only from tasks that succeeded; false: only failed ones")
        Boolean success;

        @Option(names = "--limit", defaultValue = "5", description = "how many (default ${DEFAULT-VALUE})")
        int limit;

        @Option(names = "--budget", description = "pack the answer into this many tokens")
        Integer budget;

        @Option(names = "--json", description = "print the raw JSON answer")
        boolean json;

        @Override
        public Integer call() throws Exception {
            StringBuilder q = new StringBuilder("/v1/memory/search?q=").append(enc(query)).append("&limit=").append(limit);
            // Lists go comma-separated: the API takes each parameter once.
            if (!agents.isEmpty()) q.append("&agent=").append(enc(String.join(",", agents)));
            if (!kinds.isEmpty()) q.append("&kind=").append(enc(String.join(",", kinds)));
            if (task != null) q.append("&task=").append(enc(task));
            if (success != null) q.append("&success=").append(success);
            if (budget != null) q.append("&budget=").append(budget);
            JsonNode r = client.get(q.toString());
            if (json) {
                System.out.println(Client.pretty(r));
                return 0;
            }
            if (r.path("hits").isEmpty()) System.out.println("no memories match (model " + r.path("model").asText() + ")");
            int n = 0;
            for (JsonNode h : r.path("hits")) {
                System.out.printf("%d. [%s] %s %s  score %.4f  similarity %.3f%s%n", ++n, h.path("kind").asText(), h.path("agent").asText(),
                        h.path("created_at").asText(), h.path("score").asDouble(), h.path("similarity").asDouble(),
                        h.has("task") ? "  task " + h.path("task").asText() : "");
                for (String line : h.path("text").asText().split("\n")) System.out.println("   " + line);
            }
            return 0;
        }
    }

    @Command(name = "stats", mixinStandardHelpOptions = true, description = {"Memories per agent, size on disk, model, indexing counters.", "",
            "Example:", "  aegis memory stats"})
    static final class Stats implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Override
        public Integer call() throws Exception {
            System.out.println(Client.pretty(client.get("/v1/memory/stats")));
            return 0;
        }
    }

    @Command(name = "delete", mixinStandardHelpOptions = true,
            description = {"Deletes memories for good (from results at once, from disk as the index is merged).", "",
                    "Example:", "  aegis memory delete --agent deploy-bot", "  aegis memory delete --all"})
    static final class Delete implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Option(names = "--agent", description = "every memory of this namespace (an agent's name, or a shared memory_namespace)")
        String agent;

        @Option(names = "--task", description = "every memory of this task")
        String task;

        @Option(names = "--all", description = "every memory of the tenant")
        boolean all;

        @Override
        public Integer call() throws Exception {
            int chosen = (agent != null ? 1 : 0) + (task != null ? 1 : 0) + (all ? 1 : 0);
            if (chosen != 1) throw new IllegalArgumentException("say what to delete: exactly one of --agent NAME, --task ID or --all");
            String path = agent != null ? "/v1/memory/agents/" + enc(agent) : task != null ? "/v1/memory/tasks/" + enc(task) : "/v1/memory?all=true";
            JsonNode r = client.send(client.request(path).DELETE().build());
            System.out.println("deleted " + r.path("deleted").asLong() + " memories");
            return 0;
        }
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }
}
