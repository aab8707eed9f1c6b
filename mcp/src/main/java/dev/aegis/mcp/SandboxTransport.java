package dev.aegis.mcp;

import dev.aegis.core.StdioRuntime;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.json.TypeRef;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Consumer;
import java.util.function.Function;
import reactor.core.publisher.Mono;

/**
 * MCP's stdio transport over a sandbox's pipes ({@link StdioRuntime}), where the SDK's own StdioClientTransport
 * would start the server as a plain host process. One JSON-RPC message per line; a line longer than
 * {@code maxMessageBytes} (a flooding or broken server) ends the session rather than growing a buffer, and so do more
 * than {@code maxMessageBytes} of lines that are not JSON-RPC in all (a server flooding its stdout with logs), and
 * EOF (the server crashed or was stopped): {@code onEnd} is told why, once.
 */
final class SandboxTransport implements McpClientTransport {
    private final StdioRuntime.Stdio io;
    private final McpJsonMapper json;
    private final int maxMessageBytes;
    private final Consumer<String> onEnd;
    private final Consumer<String> noise;
    private long noiseBytes;

    /** @param noise lines on stdout that are not JSON-RPC (some servers log there): dropped, shown to the operator */
    SandboxTransport(StdioRuntime.Stdio io, McpJsonMapper json, int maxMessageBytes, Consumer<String> onEnd, Consumer<String> noise) {
        this.io = io;
        this.json = json;
        this.maxMessageBytes = maxMessageBytes;
        this.onEnd = onEnd;
        this.noise = noise;
    }

    @Override
    public Mono<Void> connect(Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
        return Mono.fromRunnable(() -> Thread.ofVirtual().name("aegis-mcp-read").start(() -> read(handler)));
    }

    private void read(Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
        InputStream in = io.stdout();
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        byte[] buf = new byte[8192];
        String why = "the tool server exited";
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                int start = 0;
                for (int i = 0; i < n; i++) {
                    if (buf[i] != '\n') continue;
                    line.write(buf, start, i - start);
                    start = i + 1;
                    deliver(line.toString(StandardCharsets.UTF_8), handler);
                    line.reset();
                }
                if (noiseBytes > maxMessageBytes) {
                    why = "the tool server printed over " + maxMessageBytes + " bytes on stdout that are not JSON-RPC (an MCP "
                            + "stdio server must log to stderr)";
                    break;
                }
                line.write(buf, start, n - start);
                if (line.size() > maxMessageBytes) {
                    why = "the tool server sent a message over " + maxMessageBytes + " bytes";
                    break;
                }
            }
        } catch (IOException e) {
            why = "the tool server's output closed: " + e.getMessage();
        }
        onEnd.accept(why);
    }

    private void deliver(String text, Function<Mono<McpSchema.JSONRPCMessage>, Mono<McpSchema.JSONRPCMessage>> handler) {
        if (text.isBlank()) return;
        McpSchema.JSONRPCMessage message;
        try {
            // A message is a JSON object: anything else is noise without the cost of a parse error.
            if (!text.stripLeading().startsWith("{")) throw new IOException("not a JSON object");
            message = McpSchema.deserializeJsonRpcMessage(json, text);
        } catch (IOException | RuntimeException e) {
            noiseBytes += text.length() + 1;
            noise.accept(text.length() > 200 ? text.substring(0, 200) + "…" : text);
            return;
        }
        handler.apply(Mono.just(message)).subscribe(m -> { }, e -> noise.accept("handler: " + e));
    }

    @Override
    public Mono<Void> sendMessage(McpSchema.JSONRPCMessage message) {
        return Mono.fromRunnable(() -> {
            try {
                byte[] bytes = json.writeValueAsBytes(message);
                OutputStream out = io.stdin();
                synchronized (out) {
                    out.write(bytes);
                    out.write('\n');
                    out.flush();
                }
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("the tool server does not read its input any more: " + e.getMessage(), e);
            }
        });
    }

    @Override
    public Mono<Void> closeGracefully() {
        return Mono.fromRunnable(() -> {
            try {
                io.stdin().close();
            } catch (IOException e) {
                // already gone
            }
        });
    }

    @Override
    public <T> T unmarshalFrom(Object data, TypeRef<T> type) {
        return json.convertValue(data, type);
    }
}
