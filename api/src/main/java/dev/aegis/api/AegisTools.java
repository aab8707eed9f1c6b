package dev.aegis.api;

import com.fasterxml.jackson.databind.JsonNode;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.StringJoiner;
import java.util.function.Function;

/**
 * What AEGIS offers MCP clients (run a task, read it and its logs, cancel it, search memory, list agents), defined once
 * for both transports: {@code aegis mcp} over stdio and {@code POST /mcp} on the API. Each tool call becomes one
 * request to the public REST API made with the caller's own key, so roles, tenant, validation, rate limits and audit
 * are the API's own and no second copy of them exists. This class only checks the arguments' shape (each error names
 * the argument) and turns the API's answer into a tool result: an API error is a tool error with its code and field.
 */
public final class AegisTools {
    private AegisTools() {}

    /** How a tool call reaches the API: one request ({@code body} empty for none) answered with a status and JSON. */
    @FunctionalInterface
    public interface Api {
        Reply send(String method, String pathAndQuery, Optional<String> body) throws IOException, InterruptedException;
    }

    public record Reply(int status, String body) {}

    /** One argument: its JSON type, whether it must be given, and what it is for. */
    record Arg(String name, String type, boolean required, String description) {}

    /** The API request a tool call becomes. */
    record Request(String method, String path, Optional<Map<String, Object>> body) {}

    /** One tool: its name, what it does, its arguments and the API request they become. */
    record Definition(String name, String description, List<Arg> args, Function<Map<String, Object>, Request> request) {
        McpSchema.Tool tool() {
            Map<String, Object> properties = new LinkedHashMap<>();
            for (Arg a : args) properties.put(a.name(), Map.of("type", a.type(), "description", a.description()));
            Map<String, Object> schema = new LinkedHashMap<>();
            schema.put("type", "object");
            schema.put("properties", properties);
            schema.put("required", args.stream().filter(Arg::required).map(Arg::name).toList());
            schema.put("additionalProperties", false);
            return McpSchema.Tool.builder().name(name).description(description).inputSchema(schema).build();
        }
    }

    /** search_memory's arguments by their API name; the API's errors name them back by the argument's name. */
    private static final Map<String, String> QUERY_NAMES = new LinkedHashMap<>(Map.of("query", "q", "agent", "agent", "limit", "limit"));

    private static final Arg TASK_ID = new Arg("id", "string", true, "the task's id, as run_task returned it");

    static final List<Definition> DEFINITIONS = List.of(
            new Definition("run_task", "Runs a task on a deployed agent in a fresh sandbox. With wait (the default) it returns "
                    + "the finished task with its result; otherwise (or when timeout_ms passes first) the task as it is now: "
                    + "read it later with get_task. Needs role admin, deployer or runner.",
                    List.of(new Arg("agent", "string", true, "the name of a deployed agent (list_agents shows them)"),
                            new Arg("input", "object", false, "the task's input, handed to the agent as JSON (default {})"),
                            new Arg("wait", "boolean", false, "wait for the task to end (default true)"),
                            new Arg("timeout_ms", "integer", false, "wait at most this long; the server caps it"),
                            new Arg("priority", "integer", false, "0 (first) to 9 (last); default 5")),
                    a -> {
                        Map<String, Object> body = new LinkedHashMap<>(a);
                        body.putIfAbsent("wait", true);
                        return new Request("POST", "/v1/tasks", Optional.of(body));
                    }),
            new Definition("get_task", "A task of the caller's tenant: state, result or error, timings and transitions.",
                    List.of(TASK_ID), a -> new Request("GET", "/v1/tasks/" + segment(a.get("id")), Optional.empty())),
            new Definition("task_logs", "A task's log lines (its stderr), oldest first.",
                    List.of(TASK_ID, new Arg("after", "integer", false, "only lines after this sequence number")),
                    a -> new Request("GET", "/v1/tasks/" + segment(a.get("id")) + "/logs" + query(a, Map.of("after", "after")), Optional.empty())),
            new Definition("cancel_task", "Cancels a queued or running task; its sandbox is destroyed. Needs role admin, "
                    + "deployer or runner.", List.of(TASK_ID),
                    a -> new Request("POST", "/v1/tasks/" + segment(a.get("id")) + "/cancel", Optional.empty())),
            new Definition("search_memory", "Searches the tenant's memory (what past tasks left behind) by meaning and words; "
                    + "newer and well-rated memories rank first.",
                    List.of(new Arg("query", "string", true, "what to look for"),
                            new Arg("agent", "string", false, "only this agent's (or shared namespace's) memories"),
                            new Arg("limit", "integer", false, "how many hits, 1 to 100 (default 10)")),
                    a -> new Request("GET", "/v1/memory/search" + query(a, QUERY_NAMES), Optional.empty())),
            new Definition("list_agents", "The agents deployed in the caller's tenant, with their manifests' names and versions.",
                    List.of(), a -> new Request("GET", "/v1/agents", Optional.empty())));

    /** The tools, as MCP lists them. */
    public static List<McpSchema.Tool> tools() {
        return DEFINITIONS.stream().map(Definition::tool).toList();
    }

    /** Runs one call of a listed tool through {@code api}; every failure, the caller's or the API's, is a tool error saying why. */
    public static McpSchema.CallToolResult call(Api api, String name, Map<String, Object> arguments) {
        // The MCP server answers a call of an unknown tool itself (JSON-RPC error -32602) before it gets here.
        Definition d = DEFINITIONS.stream().filter(t -> t.name().equals(name)).findFirst().orElseThrow();
        Map<String, Object> args = arguments == null ? Map.of() : arguments;
        Optional<McpSchema.CallToolResult> bad = check(d, args);
        if (bad.isPresent()) return bad.get();
        Request r = d.request().apply(args);
        Reply reply;
        try {
            reply = api.send(r.method(), r.path(), r.body().isEmpty() ? Optional.empty() : Optional.of(Bodies.JSON.writeValueAsString(r.body().get())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return error("interrupted", "the call was interrupted", null);
        } catch (IOException | RuntimeException e) {
            return error("unavailable", "the AEGIS API did not answer: " + e.getMessage(), null);
        }
        return result(reply, name.equals("search_memory"));
    }

    /** Unknown, missing and mistyped arguments, each named; values are the API's to judge. */
    private static Optional<McpSchema.CallToolResult> check(Definition d, Map<String, Object> args) {
        for (String given : args.keySet())
            if (d.args().stream().noneMatch(a -> a.name().equals(given)))
                return Optional.of(error("invalid_request", "unknown argument; " + d.name() + " takes " + (d.args().isEmpty() ? "none"
                        : String.join(", ", d.args().stream().map(Arg::name).toList())), Words.cut(given)));
        for (Arg a : d.args()) {
            Object v = args.get(a.name());
            if (v == null) {
                if (a.required()) return Optional.of(error("invalid_request", "is required: " + a.description(), a.name()));
                continue;
            }
            boolean fits = switch (a.type()) {
                case "string" -> v instanceof String s && !s.isBlank();
                case "boolean" -> v instanceof Boolean;
                case "integer" -> v instanceof Integer || v instanceof Long || v instanceof java.math.BigInteger
                        || v instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && !Double.isInfinite(n.doubleValue());
                case "object" -> v instanceof Map;
                default -> throw new IllegalStateException("no check for type " + a.type());
            };
            if (!fits) return Optional.of(error("invalid_request", "must be " + (a.type().equals("integer") ? "an " : "a ")
                    + (a.type().equals("string") ? "non-empty string" : a.type()) + ", not " + Words.cut(String.valueOf(v)), a.name()));
        }
        return Optional.empty();
    }

    private static McpSchema.CallToolResult result(Reply reply, boolean renameQ) {
        JsonNode body;
        try {
            body = Bodies.JSON.readTree(reply.body());
        } catch (IOException e) {
            return error("bad_answer", "the AEGIS API answered HTTP " + reply.status() + " with no JSON", null);
        }
        if (reply.status() >= 400) {
            JsonNode e = body.path("error");
            String field = e.path("field").isTextual() ? e.path("field").asText() : null;
            if (renameQ && "q".equals(field)) field = "query";
            return error(e.path("code").asText("http_" + reply.status()), e.path("message").asText(reply.body()), field);
        }
        return McpSchema.CallToolResult.builder().addTextContent(reply.body())
                .structuredContent(Bodies.JSON.convertValue(body, Map.class)).isError(false).build();
    }

    private static McpSchema.CallToolResult error(String code, String message, String field) {
        Map<String, Object> e = new LinkedHashMap<>();
        e.put("code", code);
        e.put("message", message);
        if (field != null) e.put("field", field);
        return McpSchema.CallToolResult.builder().addTextContent(code + ": " + (field == null ? "" : field + ": ") + message)
                .structuredContent(Map.of("error", e)).isError(true).build();
    }

    private static String segment(Object id) {
        return URLEncoder.encode(String.valueOf(id), StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** The given arguments as a query string, under their API names. */
    private static String query(Map<String, Object> args, Map<String, String> names) {
        StringJoiner q = new StringJoiner("&", "?", "").setEmptyValue("");
        names.forEach((arg, param) -> {
            Object v = args.get(arg);
            if (v != null) q.add(param + "=" + URLEncoder.encode(v instanceof Number n ? Long.toString(n.longValue()) : v.toString(),
                    StandardCharsets.UTF_8));
        });
        return q.toString();
    }
}
