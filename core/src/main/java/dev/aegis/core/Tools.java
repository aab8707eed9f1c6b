package dev.aegis.core;

import java.util.List;
import java.util.Objects;

/**
 * A provider of tools that agents call through {@code tools.call}: the built-in ones and the tenants' MCP servers.
 * A provider is only reached after {@link ToolCalls} allowed the call and checked its arguments against the tool's
 * input schema; it does the work and answers JSON.
 */
public interface Tools {
    /** The tool names this provider offers every tenant, {@code server.tool}. */
    List<String> names();

    /**
     * The tools offered to {@code session}'s tenant, with their input schemas. By default the names of
     * {@link #names()}, taking any JSON object; tenant-specific providers (MCP servers) override it.
     */
    default List<Tool> tools(Session session) {
        return names().stream().map(n -> new Tool(n, "", Tool.ANY_OBJECT)).toList();
    }

    default java.util.Optional<Tool> find(Session session, String name) {
        return tools(session).stream().filter(t -> t.name().equals(name)).findFirst();
    }

    /**
     * Calls tool {@code name} for the agent behind {@code session}.
     *
     * @param arguments the call's arguments, a JSON object as text
     * @return the result, JSON as text
     * @throws AegisException with a code and a sentence the agent sees (e.g. {@code invalid_request} naming the argument)
     */
    String call(Session session, String name, String arguments);

    /**
     * One tool as agents see it.
     *
     * @param inputSchema the JSON Schema its arguments must match, as JSON text
     */
    record Tool(String name, String description, String inputSchema) {
        public static final String ANY_OBJECT = "{\"type\":\"object\"}";

        public Tool {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(description, "description");
            Objects.requireNonNull(inputSchema, "inputSchema");
        }
    }
}
