package dev.aegis.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.AuditLog;
import dev.aegis.core.Coordinator;
import dev.aegis.core.Memory;
import dev.aegis.core.LlmCalls;
import dev.aegis.core.Session;
import dev.aegis.core.Sessions;
import dev.aegis.core.ToolCalls;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.jetty.unixdomain.server.UnixDomainServerConnector;

/**
 * The agent API: HTTP over one unix socket that is mounted into every sandbox at {@code /run/aegis/agent.sock}.
 * The caller is whoever holds a live {@code AEGIS_TOKEN}; every call acts for that token's task only.
 */
public final class AgentApiServer implements AutoCloseable {
    /** Calls of the agent contract that later capabilities fill in; until then they answer 501. None right now. */
    static final List<String> NOT_YET = List.of();
    /** Answered by {@link LlmCalls} when the node has one, else 501 like the rest. */
    static final List<String> LLM_CALLS = List.of("chat/completions", "embeddings");
    /** Answered by {@link ToolCalls} when the node has one, else 501 like the rest. */
    static final List<String> TOOL_CALLS = List.of("tools/list", "tools/call");
    private static final int MAX_BODY = 256 * 1024;
    /** What an error answer reads of an unread body before answering; past it, the connection is closed. */
    private static final long DRAIN = 16L << 20;
    /** The group container sandboxes run as. */
    private static final int SANDBOX_GID = 1000;
    private static final int MAX_LINE = 8 * 1024;
    private static final String SESSION = "aegis.session";

    private final Sessions sessions;
    private final Path socket;
    private final Javalin app;

    public AgentApiServer(Sessions sessions, Path socket) {
        this(sessions, socket, java.util.Optional.empty());
    }

    /** With {@code coordinator}, the lock, bus and delegation calls work; without, they answer 501. */
    public AgentApiServer(Sessions sessions, Path socket, java.util.Optional<Coordinator> coordinator) {
        this(sessions, socket, coordinator, java.util.Optional.empty());
    }

    /** With {@code tools}, {@code tools.call} and {@code tools.list} work; without, they answer 501. */
    public AgentApiServer(Sessions sessions, Path socket, java.util.Optional<Coordinator> coordinator,
                          java.util.Optional<ToolCalls> tools) {
        this(sessions, socket, coordinator, tools, Memory.NONE, null);
    }

    /**
     * With {@code memory}, {@code memory.query} and {@code memory.store} work as manifests allow, their decisions
     * recorded in {@code audit}; with {@link Memory#NONE} they answer 501.
     */
    public AgentApiServer(Sessions sessions, Path socket, java.util.Optional<Coordinator> coordinator,
                          java.util.Optional<ToolCalls> tools, Memory memory, AuditLog audit) {
        this(sessions, socket, coordinator, tools, memory, audit, java.util.Optional.empty());
    }

    /** With {@code llm}, the OpenAI-compatible {@code chat/completions} and {@code embeddings} work; without, 501. */
    public AgentApiServer(Sessions sessions, Path socket, java.util.Optional<Coordinator> coordinator,
                          java.util.Optional<ToolCalls> tools, Memory memory, AuditLog audit, java.util.Optional<LlmCalls> llm) {
        AgentMemoryCalls memoryCalls = memory == Memory.NONE ? null : new AgentMemoryCalls(memory, audit, MAX_BODY);
        this.sessions = sessions;
        this.socket = socket;
        this.app = Javalin.create(cfg -> {
            cfg.concurrency.useVirtualThreads = true;
            cfg.startup.showJavalinBanner = false;
            cfg.http.maxRequestSize = MAX_BODY;
            cfg.jetty.addConnector((server, http) -> {
                UnixDomainServerConnector c = new UnixDomainServerConnector(server,
                        new org.eclipse.jetty.server.HttpConnectionFactory(http));
                c.setUnixDomainPath(socket);
                return c;
            });
            cfg.routes.exception(AegisException.class, (e, ctx) -> {
                drain(ctx);
                Errors.write(ctx, e);
            });
            cfg.routes.exception(HttpResponseException.class, (e, ctx) -> {
                drain(ctx);
                Errors.write(ctx, e.getStatus(), e.getStatus() == 404 ? "not_found" : "http_" + e.getStatus(),
                        e.getStatus() == 404 ? "no such agent-API call: " + ctx.method() + " " + ctx.path() : e.getMessage(), null);
            });
            cfg.routes.exception(Exception.class, (e, ctx) -> Errors.unexpected(ctx, e));
            cfg.routes.before(this::authenticate);
            cfg.routes.get("/v1/whoami", ctx -> {
                Session s = ctx.attribute(SESSION);
                ctx.json(Map.of("task_id", s.taskId(), "agent", s.agent().name(), "tenant", s.tenant()));
            });
            cfg.routes.post("/v1/log", this::log);
            cfg.routes.post("/v1/memory/query", ctx -> {
                if (memoryCalls == null) throw new AegisException("not_available", "memory.query is not available: memory is off on this node");
                memoryCalls.query(ctx, ctx.attribute(SESSION));
            });
            cfg.routes.post("/v1/memory/store", ctx -> {
                if (memoryCalls == null) throw new AegisException("not_available", "memory.store is not available: memory is off on this node");
                memoryCalls.store(ctx, ctx.attribute(SESSION));
            });
            coordinator.ifPresent(c -> new SwarmCalls(c, MAX_BODY).register(cfg.routes, ctx -> ctx.attribute(SESSION)));
            tools.ifPresent(t -> {
                cfg.routes.post("/v1/tools/call", ctx -> callTool(ctx, t));
                cfg.routes.post("/v1/tools/list", ctx -> {
                    Bodies.object(ctx, MAX_BODY, Set.of());
                    ctx.json(Map.of("tools", t.list(ctx.attribute(SESSION)).stream().map(AgentApiServer::tool).toList()));
                });
            });
            llm.ifPresent(l -> {
                AgentLlmCalls calls = new AgentLlmCalls(l, MAX_BODY, ctx -> ctx.attribute(SESSION));
                cfg.routes.post("/v1/chat/completions", calls::chat);
                cfg.routes.post("/v1/embeddings", calls::embeddings);
            });
            List<String> notYet = new java.util.ArrayList<>(coordinator.isPresent() ? NOT_YET : notYetWithout());
            if (tools.isEmpty()) notYet.addAll(TOOL_CALLS);
            if (llm.isEmpty()) notYet.addAll(LLM_CALLS);
            for (String call : notYet)
                cfg.routes.post("/v1/" + call, ctx -> {
                    // Read the request first: answering while the agent still sends its body can reset the connection
                    // under it (BrokenPipeError in the agent instead of the 501).
                    ctx.bodyAsBytes();
                    throw new AegisException("not_available", call.replace('/', '.') + " is not available yet on this AEGIS");
                });
        });
    }

    private static List<String> notYetWithout() {
        List<String> all = new java.util.ArrayList<>(NOT_YET);
        all.addAll(SwarmCalls.CALLS);
        return all;
    }

    public AgentApiServer start() {
        try {
            Files.createDirectories(socket.getParent());
            Files.deleteIfExists(socket);
        } catch (IOException e) {
            throw new IllegalStateException("cannot prepare agent socket " + socket + ": " + e.getMessage(), e);
        }
        app.start();
        try {
            // bubblewrap agents run as this process's uid (the owner); docker agents as uid/gid 1000 (the group).
            // Anyone else is kept out by the mode; whoever connects still needs a live AEGIS_TOKEN.
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
            try {
                Files.setAttribute(socket, "unix:gid", SANDBOX_GID);
            } catch (IOException | UnsupportedOperationException | SecurityException e) {
                // not root: only same-uid sandboxes (bubblewrap) can connect; docker spawns say so clearly
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot set permissions on " + socket, e);
        }
        return this;
    }

    public Path socket() {
        return socket;
    }

    @Override
    public void close() {
        app.stop();
    }

    private void authenticate(Context ctx) {
        String header = ctx.header("Authorization");
        String token = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).strip() : null;
        Session s = sessions.find(token).orElseThrow(() ->
                new AegisException("unauthorized", "missing or expired AEGIS_TOKEN: send Authorization: Bearer $AEGIS_TOKEN"));
        ctx.attribute(SESSION, s);
    }

    /**
     * {@code tools.call}: {@code {"name": "server.tool", "arguments": {...}}} answers {@code {"result": ...}}. A tool the
     * manifest does not grant is refused (403 {@code policy_denied}, with the reason) before anything leaves AEGIS.
     */
    private static void callTool(Context ctx, ToolCalls tools) throws IOException {
        ObjectNode body = Bodies.object(ctx, MAX_BODY, Set.of("name", "arguments"));
        String name = Bodies.string(body, "name");
        com.fasterxml.jackson.databind.JsonNode args = body.has("arguments") ? body.get("arguments") : Bodies.JSON.createObjectNode();
        if (!args.isObject()) throw AegisException.invalid("arguments", "must be a JSON object");
        String result = tools.call(ctx.attribute(SESSION), name, args.toString());
        ctx.json(Map.of("result", Bodies.JSON.readTree(result)));
    }

    /** A tool as {@code tools.list} shows it: name, description and its input schema (a JSON object). */
    static Map<String, Object> tool(dev.aegis.core.Tools.Tool t) {
        Map<String, Object> v = new java.util.LinkedHashMap<>();
        v.put("name", t.name());
        v.put("description", t.description());
        try {
            v.put("input_schema", Bodies.JSON.readTree(t.inputSchema()));
        } catch (IOException e) {
            v.put("input_schema", Map.of());
        }
        return v;
    }

    /**
     * Reads what is left of a request body before an error answer: Jetty closes a connection whose body was not
     * read, and a client still sending it then fails with a broken pipe instead of reading the error.
     */
    private static void drain(Context ctx) {
        try {
            // Up to 16 MiB: enough for a client that sent a whole oversized body (a 10 MB memory) to read the answer.
            var in = ctx.req().getInputStream();
            byte[] buf = new byte[1 << 16];
            for (long left = DRAIN; left > 0; ) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) break;
                left -= n;
            }
        } catch (IOException | RuntimeException e) {
            // nothing more to read, or the client is gone: the answer is written anyway
        }
    }

    private void log(Context ctx) {
        Session s = ctx.attribute(SESSION);
        ObjectNode body = Bodies.object(ctx, MAX_BODY, Set.of("message", "level"));
        String message = Bodies.string(body, "message");
        String level = body.hasNonNull("level") ? Bodies.string(body, "level") : "info";
        if (!Set.of("debug", "info", "warn", "error").contains(level))
            throw AegisException.invalid("level", "\"" + level + "\" is not allowed; use debug, info, warn or error");
        if (message.length() > MAX_LINE) message = message.substring(0, MAX_LINE) + "…";
        for (String line : message.split("\n")) s.logs().line(level.equals("info") ? line : "[" + level + "] " + line);
        ctx.json(Map.of("ok", true));
    }
}
