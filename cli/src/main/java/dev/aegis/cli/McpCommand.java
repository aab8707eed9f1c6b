package dev.aegis.cli;

import dev.aegis.api.AegisTools;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpServerFeatures;
import io.modelcontextprotocol.server.McpSyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * {@code aegis mcp}: AEGIS as an MCP server over stdio, for MCP hosts that start their servers as child processes.
 * It holds no state and drives a running AEGIS server through its REST API with the configured key; the tools are
 * {@link AegisTools}, the same as {@code POST /mcp} offers. It exits when its stdin closes (the host went away).
 */
@Command(name = "mcp", mixinStandardHelpOptions = true,
        description = {"Serves AEGIS as an MCP server on stdin/stdout: MCP hosts run tasks, read them, search memory, list agents.",
                "Tools: run_task, get_task, task_logs, cancel_task, search_memory, list_agents. The server's own /mcp offers",
                "the same over Streamable HTTP.", "",
                "Example host entry:", "  {\"command\": \"aegis\", \"args\": [\"mcp\"], \"env\": {\"AEGIS_URL\": \"http://127.0.0.1:7070\", \"AEGIS_API_KEY\": \"aeg_live_...\"}}"})
final class McpCommand implements java.util.concurrent.Callable<Integer> {
    @Mixin
    Client client;

    @Override
    public Integer call() throws Exception {
        client.request("/"); // no key: say so now, on stderr, rather than in every tool result
        CountDownLatch ended = new CountDownLatch(1);
        InputStream in = new FilterInputStream(System.in) {
            @Override
            public int read(byte[] b, int off, int len) throws IOException {
                int n = super.read(b, off, len);
                if (n < 0) ended.countDown();
                return n;
            }

            @Override
            public int read() throws IOException {
                int c = super.read();
                if (c < 0) ended.countDown();
                return c;
            }
        };
        AegisTools.Api api = this::send;
        McpSyncServer server = McpServer.sync(new StdioServerTransportProvider(McpJsonDefaults.getMapper(), in, System.out))
                .validateToolInputs(false).serverInfo("aegis", "0.1.0").capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
                .tools(AegisTools.tools().stream().map(t -> new McpServerFeatures.SyncToolSpecification(t,
                        (exchange, call) -> AegisTools.call(api, call.name(), call.arguments()))).toList())
                .build();
        ended.await();
        server.close();
        return 0;
    }

    private AegisTools.Reply send(String method, String path, java.util.Optional<String> body) throws IOException, InterruptedException {
        HttpRequest.Builder b = client.request(path);
        b = body.isPresent() ? b.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body.get()))
                : b.method(method, HttpRequest.BodyPublishers.noBody());
        try {
            HttpResponse<String> r = client.http().send(b.build(), HttpResponse.BodyHandlers.ofString());
            return new AegisTools.Reply(r.statusCode(), r.body());
        } catch (java.net.ConnectException e) {
            throw new IOException("cannot reach " + client.base() + ": is `aegis server` running? (set --url or AEGIS_URL)", e);
        }
    }
}
