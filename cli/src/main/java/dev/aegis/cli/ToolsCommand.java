package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.http.HttpRequest;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "tools", mixinStandardHelpOptions = true,
        description = {"Adds, lists, tests and removes the tenant's MCP tool servers (add and remove need an admin or",
                "deployer key, test a runner's).", "",
                "A stdio server is a command AEGIS runs in a sandbox of its own, with the grants and limits of its",
                "registration; a remote one is a Streamable-HTTP URL reached through the egress policy. Agents call",
                "its tools as name.tool when their agent.yaml lists them under permissions.tools.", "",
                "Example:", "  aegis tools add fs.json", "  aegis tools test fs", "  aegis tools list"},
        subcommands = {ToolsCommand.Add.class, ToolsCommand.List.class, ToolsCommand.Test.class, ToolsCommand.Remove.class})
final class ToolsCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = {"Registers a tool server, or replaces the one of that name. The registration is JSON (a file,",
                    "or - for stdin): name; command (argv) or url; permissions {filesystem, network} and resources as in",
                    "agent.yaml. Or give it as flags: --name with --mcp-url, or with the command after --.", "",
                    "Example:", "  aegis tools add fs.json      # fs.json:",
                    "    {\"name\": \"fs\", \"command\": [\"node\", \"/opt/mcp/server-filesystem/dist/index.js\", \"/data\"],",
                    "     \"permissions\": {\"filesystem\": {\"read\": [\"/opt/mcp\", \"/data\"]}}, \"resources\": {\"timeout\": \"10s\"}}",
                    "  aegis tools add --name fs --read /opt/mcp --read /data -- node /opt/mcp/server-filesystem/dist/index.js /data",
                    "  aegis tools add --name search --mcp-url https://mcp.example.com/mcp --egress mcp.example.com:443"})
    static final class Add implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(description = "the registration's file (- for stdin); with --name: the command and its arguments")
        java.util.List<String> args = new ArrayList<>();

        @Option(names = "--name", description = "the server's name (then give --mcp-url, or the command after --)")
        String name;

        @Option(names = "--mcp-url", description = "a remote Streamable-HTTP server's URL")
        String url;

        @Option(names = "--read", description = "a folder the server may read (repeatable)")
        java.util.List<String> read = new ArrayList<>();

        @Option(names = "--write", description = "a folder the server may write (repeatable)")
        java.util.List<String> write = new ArrayList<>();

        @Option(names = "--egress", description = "a host:port the server may reach (repeatable)")
        java.util.List<String> egress = new ArrayList<>();

        @Option(names = "--timeout", description = "bound of each tool call, e.g. 10s (default 30s)")
        String timeout;

        @Override
        public Integer call() throws Exception {
            String body = name == null ? file() : Client.JSON.writeValueAsString(flags());
            JsonNode s = client.send(client.request("/v1/tools/servers").header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build());
            System.out.println("registered " + s.path("name").asText() + " (" + s.path("kind").asText() + "); try it: aegis tools test "
                    + s.path("name").asText());
            return 0;
        }

        private String file() throws java.io.IOException {
            if (args.size() != 1 || url != null || timeout != null || !read.isEmpty() || !write.isEmpty() || !egress.isEmpty())
                throw new IllegalArgumentException("give one registration file (or - for stdin), or --name with --mcp-url or a command after --");
            if (args.getFirst().equals("-")) return new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
            Path p = Path.of(args.getFirst());
            if (!Files.isRegularFile(p)) throw new IllegalArgumentException(p + ": no such file");
            return Files.readString(p);
        }

        private Map<String, Object> flags() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            if (url != null) m.put("url", url);
            if (!args.isEmpty()) m.put("command", args); // both or neither: the server says which to give
            Map<String, Object> permissions = new LinkedHashMap<>();
            if (!read.isEmpty() || !write.isEmpty()) permissions.put("filesystem", Map.of("read", read, "write", write));
            if (!egress.isEmpty()) permissions.put("network", Map.of("egress", egress));
            if (!permissions.isEmpty()) m.put("permissions", permissions);
            if (timeout != null) m.put("resources", Map.of("timeout", timeout));
            return m;
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true,
            description = {"Lists the tenant's tool servers: name, kind, command or URL.", "", "Example:", "  aegis tools list"})
    static final class List implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Override
        public Integer call() throws Exception {
            for (JsonNode s : client.get("/v1/tools/servers").path("servers")) {
                java.util.List<String> argv = new ArrayList<>();
                s.path("command").forEach(a -> argv.add(a.asText()));
                System.out.printf("%-24s %-6s %s%n", s.path("name").asText(), s.path("kind").asText(),
                        s.has("url") ? s.path("url").asText() : String.join(" ", argv));
            }
            return 0;
        }
    }

    @Command(name = "test", mixinStandardHelpOptions = true,
            description = {"Starts a tool server afresh and lists its tools with their arguments (* = required), as agents",
                    "will see them; a server that fails to start says why (its stderr is in the server's log).", "",
                    "Example:", "  aegis tools test fs", "  aegis tools test fs --json    # the full input schemas"})
    static final class Test implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(index = "0", description = "the server's name")
        String name;

        @Option(names = "--json", description = "print the answer as JSON, input schemas in full")
        boolean json;

        @Override
        public Integer call() throws Exception {
            JsonNode r = client.send(client.request("/v1/tools/servers/" + Client.segment(name) + "/test").POST(HttpRequest.BodyPublishers.noBody()).build());
            if (json) {
                System.out.println(Client.pretty(r));
                return 0;
            }
            System.out.println(r.path("name").asText() + ": " + r.path("tools").size() + " tools");
            for (JsonNode t : r.path("tools")) {
                java.util.List<String> params = new ArrayList<>();
                java.util.Set<String> required = new java.util.HashSet<>();
                t.path("input_schema").path("required").forEach(n -> required.add(n.asText()));
                t.path("input_schema").path("properties").fieldNames().forEachRemaining(p -> params.add(p + (required.contains(p) ? "*" : "")));
                String description = t.path("description").asText().strip().lines().findFirst().orElse("");
                System.out.printf("  %s(%s)%s%n", t.path("name").asText(), String.join(", ", params),
                        description.isEmpty() ? "" : "  " + (description.length() > 100 ? description.substring(0, 97) + "..." : description));
            }
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true,
            description = {"Removes a tool server and stops its sandbox; agents' calls to its tools then fail.", "",
                    "Example:", "  aegis tools remove fs"})
    static final class Remove implements java.util.concurrent.Callable<Integer> {
        @Mixin
        Client client;

        @Parameters(index = "0", description = "the server's name")
        String name;

        @Override
        public Integer call() throws Exception {
            client.send(client.request("/v1/tools/servers/" + Client.segment(name)).DELETE().build());
            System.out.println("removed " + name);
            return 0;
        }
    }
}
