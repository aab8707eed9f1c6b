package dev.aegis.core;

import java.util.List;

/**
 * A provider of tools that agents call through {@code tools.call}: the built-in ones now, MCP servers later. A
 * provider is only reached after {@link ToolCalls} allowed the call; it does the work and answers JSON.
 */
public interface Tools {
    /** The tool names this provider offers, {@code server.tool}. */
    List<String> names();

    default boolean offers(String name) {
        return names().contains(name);
    }

    /**
     * Calls tool {@code name} for the agent behind {@code session}.
     *
     * @param arguments the call's arguments, a JSON object as text
     * @return the result, JSON as text
     * @throws AegisException with a code and a sentence the agent sees (e.g. {@code invalid_request} naming the argument)
     */
    String call(Session session, String name, String arguments);
}
