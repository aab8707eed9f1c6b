package dev.aegis.mcp;

import dev.aegis.core.AegisException;
import dev.aegis.core.Tools;
import dev.aegis.core.ToolServer;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One live MCP session with one tenant's server: the client, the server's tools as agents see them, and what to stop
 * with it (a stdio server's sandbox, the server's egress grant). {@link #ended} completes with the reason once the
 * session is over for good.
 */
final class Connection implements AutoCloseable {
    static final int MAX_TOOLS = 1_000;
    final ToolServer server;
    final McpSyncClient client;
    final CompletableFuture<String> ended;
    final List<Tools.Tool> tools;
    private final Runnable stop;

    private Connection(ToolServer server, McpSyncClient client, CompletableFuture<String> ended, List<Tools.Tool> tools, Runnable stop) {
        this.server = server;
        this.client = client;
        this.ended = ended;
        this.tools = tools;
        this.stop = stop;
    }

    /** Handshake and tool listing on a fresh client; on failure everything started is stopped. */
    static Connection open(ToolServer server, McpSyncClient client, CompletableFuture<String> ended, Runnable stop, McpJsonMapper json) {
        Connection c = new Connection(server, client, ended, new ArrayList<>(), stop);
        try {
            // Raced against the session's end: a server that crashes at start fails the handshake now, not at its timeout.
            CompletableFuture<Object> init = CompletableFuture.supplyAsync(client::initialize, r -> Thread.ofVirtual().start(r));
            CompletableFuture.anyOf(init, ended).get(server.manifest().resources().timeout().toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
            if (!init.isDone()) throw new IllegalStateException(ended.getNow("no answer"));
            init.join();
            String cursor = null;
            do {
                McpSchema.ListToolsResult page = cursor == null ? client.listTools() : client.listTools(cursor);
                for (McpSchema.Tool t : page.tools()) {
                    if (c.tools.size() >= MAX_TOOLS) break;
                    String schema = t.inputSchema() == null ? Tools.Tool.ANY_OBJECT : json.writeValueAsString(t.inputSchema());
                    c.tools.add(new Tools.Tool(server.name() + "." + t.name(), t.description() == null ? "" : t.description(), schema));
                }
                cursor = page.nextCursor();
            } while (cursor != null && c.tools.size() < MAX_TOOLS);
            return c;
        } catch (IOException | RuntimeException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            String why = e instanceof java.util.concurrent.TimeoutException
                    ? ended.getNow("no answer within " + server.manifest().resources().timeout().toMillis() + " ms") : endedOr(ended, causes(e));
            c.close();
            throw new AegisException("tool_server_failed", "tool server " + server.name() + " did not complete the MCP handshake: " + why);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            c.close();
            throw new AegisException("tool_server_failed", "interrupted while starting tool server " + server.name());
        }
    }

    /**
     * Why the session ended, when it did: a server that crashes at start breaks the pipe of the handshake a moment
     * before its end of output is read, and "exited 3" says more than "Broken pipe".
     */
    private static String endedOr(CompletableFuture<String> ended, String otherwise) {
        try {
            return ended.get(ENDING.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
            return otherwise;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return otherwise;
        }
    }

    /** How long a failed handshake waits for the session's end to be known. */
    private static final java.time.Duration ENDING = java.time.Duration.ofMillis(500);

    /** What went wrong and its root cause: the SDK wraps the telling message in generic ones. */
    static String causes(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String top = message(e), last = message(root);
        return top.contains(last) ? top : top + ": " + last;
    }

    private static String message(Throwable t) {
        String m = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
        return m.replaceFirst("^([a-z][\\w$]*\\.)+[A-Z][\\w$]*: ", ""); // a wrapper's message is its cause's toString()
    }

    @Override
    public void close() {
        ended.complete("the tool server was stopped");
        try {
            client.closeGracefully();
        } catch (RuntimeException e) {
            // the server is being killed anyway
        }
        stop.run();
    }
}
