package dev.aegis.core;

import java.util.List;

/**
 * The tenants' MCP tool servers as the public API and the CLI see them ({@code aegis tools add|list|remove|test}).
 * Implemented by the MCP adapter, which also offers the servers' tools to agents as a {@link Tools} provider.
 */
public interface ToolRegistry {
    /**
     * Registers (or replaces) a server from its JSON registration; see {@link ToolServer}. A replaced server's
     * running sandbox is stopped: the next call starts the new one.
     *
     * @return the server, and whether it was new
     * @throws AegisException {@code invalid_request} naming the bad field
     */
    Added add(String tenant, String spec);

    List<ToolServer> list(String tenant);

    /** @throws AegisException {@code not_found} when the tenant has no server of that name */
    void remove(String tenant, String name);

    /**
     * Connects to the server (starting its sandbox if needed) and lists its tools, so an operator sees at once whether
     * the command, grants and limits work.
     *
     * @throws AegisException {@code tool_server_failed} with what went wrong (start, handshake, listing)
     */
    List<Tools.Tool> test(String tenant, String name);

    record Added(ToolServer server, boolean created) {}
}
