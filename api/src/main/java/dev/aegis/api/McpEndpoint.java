package dev.aegis.api;

import com.fasterxml.jackson.databind.JsonNode;
import dev.aegis.core.AegisException;
import io.javalin.http.Context;
import io.modelcontextprotocol.common.McpTransportContext;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.server.McpServer;
import io.modelcontextprotocol.server.McpStatelessServerFeatures;
import io.modelcontextprotocol.server.McpStatelessServerHandler;
import io.modelcontextprotocol.server.McpStatelessSyncServer;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpStatelessServerTransport;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.eclipse.jetty.http.HttpTester;
import org.eclipse.jetty.server.LocalConnector;
import reactor.core.publisher.Mono;

/**
 * {@code POST /mcp}: AEGIS as an MCP server over Streamable HTTP, in the protocol's stateless form (a JSON answer per
 * request, no sessions), so any node behind a load balancer can answer any request. The API key is checked before
 * the MCP layer like on every {@code /v1} route; each tool call is then one API request, sent in-process through a
 * {@link LocalConnector} (no socket, no TLS) with the same key, and so held to the same roles, tenant and limits.
 */
final class McpEndpoint implements McpStatelessServerTransport {
    private static final String PRESENTED = "aegis.presented-key";
    private final McpJsonMapper json = McpJsonDefaults.getMapper();
    private final java.util.function.Supplier<LocalConnector> local;
    private final Duration longest;
    private final McpStatelessSyncServer server;
    private McpStatelessServerHandler handler;

    /** {@code longest}: how long a tool call may take (a task waited for), after which it fails. */
    McpEndpoint(java.util.function.Supplier<LocalConnector> local, Duration longest) {
        this.local = local;
        this.longest = longest;
        this.server = McpServer.sync(this).serverInfo("aegis", "0.1.0")
                .validateToolInputs(false) // AegisTools checks them, naming the argument in each error
                .capabilities(McpSchema.ServerCapabilities.builder().tools(false).build())
                .tools(AegisTools.tools().stream().map(t -> new McpStatelessServerFeatures.SyncToolSpecification(t,
                        (ctx, call) -> AegisTools.call(api((String) ctx.get(PRESENTED)), call.name(), call.arguments()))).toList())
                .build();
    }

    @Override
    public void setMcpHandler(McpStatelessServerHandler handler) {
        this.handler = handler;
    }

    @Override
    public Mono<Void> closeGracefully() {
        return Mono.empty();
    }

    /** One JSON-RPC message, already authenticated and checked against the OpenAPI document ({@link Contract#BODY}). */
    void handle(Context ctx, String presentedKey) throws IOException {
        String origin = ctx.header("Origin");
        if (origin != null && !local(origin))
            throw new AegisException("forbidden", "Origin \"" + Words.cut(origin) + "\" may not call /mcp: web pages may only from this "
                    + "machine (MCP's guard against DNS rebinding); MCP hosts outside a browser send no Origin", "Origin");
        String version = ctx.header("MCP-Protocol-Version");
        if (version != null && !protocolVersions().contains(version))
            throw AegisException.invalid("MCP-Protocol-Version", "\"" + Words.cut(version) + "\" is not supported; use one of "
                    + String.join(", ", protocolVersions()));
        JsonNode body = ctx.attribute(Contract.BODY);
        McpSchema.JSONRPCMessage message;
        try {
            message = McpSchema.deserializeJsonRpcMessage(json, body.toString());
        } catch (RuntimeException | IOException e) {
            throw AegisException.invalid("body", "is not a JSON-RPC 2.0 request or notification: " + Words.cut(String.valueOf(e.getMessage())));
        }
        McpTransportContext context = McpTransportContext.create(Map.of(PRESENTED, presentedKey));
        switch (message) {
            case McpSchema.JSONRPCRequest request -> {
                McpSchema.JSONRPCResponse response;
                try {
                    response = handler.handleRequest(context, request).contextWrite(c -> c.put(McpTransportContext.KEY, context)).block();
                } catch (IllegalArgumentException e) { // params the SDK cannot read as the method's (arguments: "x")
                    response = McpSchema.JSONRPCResponse.error(request.id(), new McpSchema.JSONRPCResponse.JSONRPCError(
                            McpSchema.ErrorCodes.INVALID_PARAMS, "params do not fit " + Words.cut(request.method()) + ": "
                            + Words.cut(String.valueOf(e.getMessage()).lines().findFirst().orElse(""))));
                }
                ctx.contentType("application/json").result(json.writeValueAsString(response));
            }
            case McpSchema.JSONRPCNotification notification -> {
                handler.handleNotification(context, notification).contextWrite(c -> c.put(McpTransportContext.KEY, context)).block();
                ctx.status(202);
            }
            default -> throw AegisException.invalid("body", "a JSON-RPC response is not expected here: this server sends no requests");
        }
    }

    /** A page served from this machine: {@code localhost}, {@code 127.x.x.x} or {@code [::1]}, any scheme and port. */
    private static boolean local(String origin) {
        try {
            String host = java.net.URI.create(origin).getHost();
            return host != null && (host.equals("localhost") || host.equals("[::1]") || host.matches("127(\\.\\d{1,3}){3}"));
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * The REST API in-process, as the caller: the request goes through the whole gateway like one from outside. The key
     * was verified before, so it is a well-formed key and cannot smuggle header lines in.
     */
    private AegisTools.Api api(String key) {
        return (method, path, body) -> {
            byte[] content = body.orElse("").getBytes(StandardCharsets.UTF_8);
            String head = method + " " + path + " HTTP/1.1\r\nHost: mcp.local\r\nAuthorization: Bearer " + key + "\r\n"
                    + (body.isPresent() ? "Content-Type: application/json\r\n" : "") + "Content-Length: " + content.length
                    + "\r\nConnection: close\r\n\r\n";
            ByteBuffer request = ByteBuffer.allocate(head.length() + content.length).put(head.getBytes(StandardCharsets.ISO_8859_1)).put(content).flip();
            ByteBuffer raw;
            try {
                raw = local.get().getResponse(request, longest.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                throw e;
            } catch (Exception e) {
                throw new IOException(e.getMessage(), e);
            }
            HttpTester.Response response = raw == null ? null : HttpTester.parseResponse(raw);
            if (response == null) throw new IOException(method + " " + path + " gave no answer within " + longest.toSeconds() + " s");
            return new AegisTools.Reply(response.getStatus(), new String(Optional.ofNullable(response.getContentBytes()).orElse(new byte[0]),
                    StandardCharsets.UTF_8));
        };
    }

    void stop() {
        server.close();
    }
}
