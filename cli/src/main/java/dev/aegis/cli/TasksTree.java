package dev.aegis.cli;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "tree", mixinStandardHelpOptions = true,
        description = {"Prints a task and the child tasks it delegated, and theirs, as a tree.", "",
                "Example:", "  aegis tasks tree 7f3c..."})
final class TasksTree implements java.util.concurrent.Callable<Integer> {
    /** Deeper than any operator's delegation limit; stops a cycle in bad data from looping forever. */
    private static final int MAX_DEPTH = 64;

    @Mixin
    Client client;

    @Parameters(index = "0", description = "task id")
    String id;

    @Override
    public Integer call() throws Exception {
        List<String> out = new ArrayList<>();
        JsonNode root = client.get("/v1/tasks/" + id);
        out.add(line(root));
        walk(root.path("id").asText(), "", 1, out);
        out.forEach(System.out::println);
        return 0;
    }

    private void walk(String taskId, String indent, int depth, List<String> out) throws Exception {
        if (depth > MAX_DEPTH) return;
        JsonNode children = client.get("/v1/tasks/" + taskId + "/children").path("children");
        for (int i = 0; i < children.size(); i++) {
            boolean last = i == children.size() - 1;
            JsonNode c = children.get(i);
            out.add(indent + (last ? "└── " : "├── ") + line(c));
            walk(c.path("id").asText(), indent + (last ? "    " : "│   "), depth + 1, out);
        }
    }

    /** {@code <id> <agent> <state> [<duration>] [<error code>: <message>]}. */
    static String line(JsonNode t) {
        StringBuilder b = new StringBuilder(t.path("id").asText()).append("  ").append(t.path("agent").asText())
                .append("  ").append(t.path("state").asText());
        if (t.has("duration_ms")) b.append("  ").append(t.path("duration_ms").asLong()).append(" ms");
        if (t.has("error")) b.append("  ").append(t.path("error").path("code").asText()).append(": ")
                .append(t.path("error").path("message").asText());
        return b.toString();
    }
}
