package dev.aegis.mcp;

import dev.aegis.core.AegisException;
import dev.aegis.core.AgentRuntime;
import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditLog;
import dev.aegis.core.Decision;
import dev.aegis.core.EgressGate;
import dev.aegis.core.EgressGrant;
import dev.aegis.core.InstanceId;
import dev.aegis.core.OperatorLimits;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Policy;
import dev.aegis.core.SandboxSpec;
import dev.aegis.core.Session;
import dev.aegis.core.StdioRuntime;
import dev.aegis.core.ToolRegistry;
import dev.aegis.core.ToolServer;
import dev.aegis.core.ToolServerStore;
import dev.aegis.core.Tools;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.json.McpJsonDefaults;
import io.modelcontextprotocol.json.McpJsonMapper;
import io.modelcontextprotocol.spec.McpClientTransport;
import io.modelcontextprotocol.spec.McpSchema;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ProxySelector;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * The tenants' MCP servers, as a {@link Tools} provider for agents and as the {@link ToolRegistry} of the API. A
 * server's session starts on first use and lives on; a stdio server runs in its own sandbox (its manifest's grants
 * and limits). A server's network traffic goes through the node's egress proxy under the server's own grant (its
 * {@code permissions.network.egress}), audited as {@code tool_server:<name>}: a stdio server's sandbox gets the
 * proxy's socket as an agent's does (none without entries), and a remote server's session itself leaves through a
 * loopback listener of the proxy, so the proxy's checks (resolution, private addresses, DNS rebinding) apply to
 * AEGIS's own connection too. Each call is bounded by the server's {@code resources.timeout}: a server that does not
 * answer in time, crashes, or floods its output is stopped, the call fails with a clear error, and the next call
 * starts it afresh. Only {@link dev.aegis.core.ToolCalls} calls {@link #call}: the manifest and the schema are checked there.
 */
public final class McpTools implements Tools, ToolRegistry, AutoCloseable {
    /**
     * @param maxResultBytes a tool result larger than this (as JSON) is refused
     * @param maxMessageBytes one JSON-RPC message from a stdio server larger than this ends its session
     */
    public record Limits(long maxResultBytes, int maxMessageBytes) {
        public static final Limits DEFAULT = new Limits(1L << 20, 4 << 20);
    }

    private final ToolServerStore store;
    private final AgentRuntime runtime;
    private final Specs specs;
    private final Egress egress;
    private final AuditLog audit;
    private final Clock clock;
    private final Limits limits;
    private final McpJsonMapper json = McpJsonDefaults.getMapper();
    private final Map<String, Connection> live = new ConcurrentHashMap<>();
    /**
     * Registrations as last read or written here, by tenant/name: a tool call reads no table. Add and remove go through
     * this class, so the cache is exact on one node (a cluster would need a change notice between nodes).
     */
    private final Map<String, ToolServer> registrations = new ConcurrentHashMap<>();
    private final Map<String, Object> starting = new ConcurrentHashMap<>();

    /** A stdio server's sandbox, e.g. {@code (s, id, socket) -> orchestrator.toolServerSpec(s, id, emptyDir, socket)}. */
    @FunctionalInterface
    public interface Specs {
        /** @param egressSocket the proxy's socket for the sandbox, present when the server's manifest lists egress */
        SandboxSpec spec(ToolServer server, InstanceId id, Optional<Path> egressSocket);
    }

    /**
     * The node's egress proxy as tool servers need it: {@link EgressGate#open} for a stdio server's sandbox (as for an
     * agent's), a loopback listener for a remote server's session, and {@link EgressGate#close} for either when the
     * session ends.
     */
    public interface Egress extends EgressGate {
        /**
         * Serves {@code grant} on a loopback TCP port, as an HTTP proxy for this process's own client, until the
         * grant's instance is closed. {@code refusals} hears why the proxy answered a request itself (a denial, or a
         * server it could not reach).
         */
        InetSocketAddress loopback(EgressGrant grant, Consumer<String> refusals);
    }

    /**
     * @param runtime where stdio servers run: must also be a {@link StdioRuntime}
     * @param egress  the node's egress proxy: every tool server's only way out
     */
    public McpTools(ToolServerStore store, AgentRuntime runtime, Specs specs, Egress egress, AuditLog audit, Clock clock, Limits limits) {
        if (!(runtime instanceof StdioRuntime))
            throw new IllegalArgumentException("runtime " + runtime.name() + " cannot run stdio sessions");
        this.store = store;
        this.runtime = runtime;
        this.specs = specs;
        this.egress = egress;
        this.audit = audit;
        this.clock = clock;
        this.limits = limits;
    }

    // ---- Tools: what agents see ----

    @Override
    public List<String> names() {
        return List.of();
    }

    /** Every registered server of the tenant is started (if not yet) to learn its tools; one that fails is left out. */
    @Override
    public List<Tool> tools(Session session) {
        List<Tool> all = new ArrayList<>();
        for (ToolServer s : store.list(session.tenant())) {
            try {
                all.addAll(connection(s).tools);
            } catch (AegisException e) {
                session.logs().line("[warn] tools.list: " + e.getMessage());
            }
        }
        return all;
    }

    @Override
    public Optional<Tool> find(Session session, String name) {
        int dot = name.indexOf('.');
        if (dot <= 0) return Optional.empty();
        Optional<ToolServer> server = find(session.tenant(), name.substring(0, dot));
        if (server.isEmpty()) return Optional.empty();
        return connection(server.get()).tools.stream().filter(t -> t.name().equals(name)).findFirst();
    }

    @Override
    public String call(Session session, String name, String arguments) {
        int dot = name.indexOf('.');
        ToolServer server = find(session.tenant(), name.substring(0, dot))
                .orElseThrow(() -> AegisException.notFound("tool server " + name.substring(0, dot) + " was removed meanwhile"));
        Connection c = connection(server);
        Map<String, Object> args;
        try {
            args = json.readValue(arguments, new io.modelcontextprotocol.json.TypeRef<Map<String, Object>>() {});
        } catch (IOException e) {
            throw AegisException.invalid("arguments", "are not a JSON object: " + e.getMessage());
        }
        Duration timeout = server.manifest().resources().timeout();
        McpSchema.CallToolRequest request = new McpSchema.CallToolRequest(name.substring(dot + 1), args);
        CompletableFuture<McpSchema.CallToolResult> f = CompletableFuture.supplyAsync(() -> c.client.callTool(request),
                r -> Thread.ofVirtual().name("aegis-mcp-call").start(r));
        try {
            CompletableFuture.anyOf(f, c.ended).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            drop(c);
            throw new AegisException("timeout", "tool " + name + " did not answer within " + timeout.toMillis() + " ms (the server's "
                    + "resources.timeout); its server was stopped and starts again on the next call");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AegisException("tool_server_failed", "interrupted while calling " + name);
        } catch (ExecutionException e) {
            // f failed: read below
        }
        if (!f.isDone()) {
            drop(c);
            throw new AegisException("tool_server_failed", "tool server " + server.name() + " ended during the call to " + name
                    + ": " + c.ended.getNow("") + "; it starts again on the next call");
        }
        McpSchema.CallToolResult result;
        try {
            result = f.join();
        } catch (java.util.concurrent.CompletionException e) {
            Throwable cause = e.getCause() == null ? e : e.getCause();
            if (c.ended.isDone()) drop(c);
            throw new AegisException("tool_server_failed", "tool " + name + " failed: " + cause.getMessage());
        }
        String text;
        try {
            text = json.writeValueAsString(result);
        } catch (IOException e) {
            throw new AegisException("tool_server_failed", "tool " + name + " answered something that is not JSON: " + e.getMessage());
        }
        long bytes = text.getBytes(StandardCharsets.UTF_8).length;
        if (bytes > limits.maxResultBytes())
            throw new AegisException("tool_result_too_large", "tool " + name + " answered " + bytes + " bytes; results may be at most "
                    + limits.maxResultBytes() + " bytes");
        return text;
    }

    // ---- ToolRegistry: what operators and tenants manage ----

    @Override
    public Added add(String tenant, String spec) {
        ToolServer server = ToolServer.parse(tenant, spec, clock.instant());
        server.url().ifPresent(u -> egress(server, URI.create(u)));
        boolean created = store.save(server);
        registrations.put(server.tenant() + "/" + server.name(), server);
        stop(tenant, server.name());
        audit.append(AuditEvent.of(tenant, Orchestrator.ACTOR.orElse("local"), created ? "tool_server.add" : "tool_server.replace", "tool_server:" + server.name(),
                Map.of("kind", server.remote() ? "http" : "stdio")));
        return new Added(server, created);
    }

    @Override
    public List<ToolServer> list(String tenant) {
        return store.list(tenant);
    }

    @Override
    public void remove(String tenant, String name) {
        boolean deleted = store.delete(tenant, name);
        registrations.remove(tenant + "/" + name);
        if (!deleted) throw AegisException.notFound("tool server \"" + name + "\" is not registered for tenant " + tenant);
        stop(tenant, name);
        audit.append(AuditEvent.of(tenant, Orchestrator.ACTOR.orElse("local"), "tool_server.remove", "tool_server:" + name, Map.of()));
    }

    @Override
    public List<Tool> test(String tenant, String name) {
        ToolServer s = find(tenant, name)
                .orElseThrow(() -> AegisException.notFound("tool server \"" + name + "\" is not registered for tenant " + tenant));
        stop(tenant, name); // a fresh start: what an agent's next call would get
        return connection(s).tools;
    }

    @Override
    public void close() {
        List.copyOf(live.values()).forEach(this::drop);
    }

    // ---- sessions ----

    /** Names not registered are not kept: agents cannot grow the cache by asking for made-up servers. */
    private Optional<ToolServer> find(String tenant, String name) {
        return Optional.ofNullable(registrations.computeIfAbsent(tenant + "/" + name, k -> store.find(tenant, name).orElse(null)));
    }

    private Connection connection(ToolServer s) {
        String key = s.tenant() + "/" + s.name();
        Connection c = live.get(key);
        if (c != null && !c.ended.isDone() && c.server.spec().equals(s.spec())) return c;
        synchronized (starting.computeIfAbsent(key, k -> new Object())) {
            c = live.get(key);
            if (c != null && !c.ended.isDone() && c.server.spec().equals(s.spec())) return c;
            if (c != null) drop(c);
            c = open(s);
            live.put(key, c);
            return c;
        }
    }

    private Connection open(ToolServer s) {
        CompletableFuture<String> ended = new CompletableFuture<>();
        Duration timeout = s.manifest().resources().timeout();
        InstanceId id = new InstanceId("mcp-" + UUID.randomUUID().toString().substring(0, 8));
        List<String> entries = s.manifest().permissions().network().egress();
        EgressGrant grant = EgressGrant.of(s.tenant(), "tool_server:" + s.name(), id, Optional::empty, entries);
        Runnable stop = () -> {
            try {
                if (!s.remote()) runtime.terminate(id);
            } finally {
                egress.close(id);
            }
        };
        McpClientTransport transport;
        try {
            transport = s.url().isPresent() ? remote(s, URI.create(s.url().get()), grant, ended, timeout)
                    : stdio(s, id, entries.isEmpty() ? Optional.empty() : Optional.of(egress.open(grant)), ended);
        } catch (RuntimeException e) {
            stop.run();
            throw e instanceof AegisException a && a.code().equals("tool_server_failed") ? a
                    : new AegisException("tool_server_failed", "tool server " + s.name() + " cannot start: " + e.getMessage());
        }
        McpSyncClient client = McpClient.sync(transport).requestTimeout(timeout.plusSeconds(1)).initializationTimeout(timeout)
                .clientInfo(new McpSchema.Implementation("aegis", "0.1.0")).build();
        return Connection.open(s, client, ended, stop, json);
    }

    /**
     * The SDK's Streamable-HTTP client, through the egress proxy under the server's grant: the proxy resolves the
     * host, refuses what the grant does not allow and audits each request. A refusal ends the session with its reason.
     */
    private McpClientTransport remote(ToolServer s, URI u, EgressGrant grant, CompletableFuture<String> ended, Duration timeout) {
        InetSocketAddress proxy = egress.loopback(grant, why -> ended.complete("the egress proxy refused it: " + why));
        String path = u.getRawPath() == null || u.getRawPath().isEmpty() ? "/" : u.getRawPath();
        return HttpClientStreamableHttpTransport.builder(u.getScheme() + "://" + u.getRawAuthority())
                .endpoint(path + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery())).jsonMapper(json)
                .customizeClient(b -> b.proxy(ProxySelector.of(proxy)).version(HttpClient.Version.HTTP_1_1))
                .maxResponseSize(limits.maxMessageBytes()).connectTimeout(timeout).build();
    }

    /** A stdio server in its own sandbox, its pipes as the transport. */
    private McpClientTransport stdio(ToolServer s, InstanceId id, Optional<Path> egressSocket, CompletableFuture<String> ended) {
        try {
            runtime.spawn(specs.spec(s, id, egressSocket));
        } catch (AegisException e) {
            throw new AegisException("tool_server_failed", "tool server " + s.name() + " cannot start: " + e.getMessage());
        } catch (RuntimeException e) {
            throw new AegisException("tool_server_failed", "tool server " + s.name() + " cannot start its sandbox: " + e.getMessage());
        }
        ServerLog log = new ServerLog(s);
        ended.thenAccept(log::ended);
        StdioRuntime.Stdio io = ((StdioRuntime) runtime).attach(id, log);
        return new SandboxTransport(io, json, limits.maxMessageBytes(), ended::complete, line -> log.line("stdout, not JSON-RPC: " + line));
    }

    private void stop(String tenant, String name) {
        Connection c = live.remove(tenant + "/" + name);
        if (c != null) c.close();
    }

    private void drop(Connection c) {
        live.remove(c.server.tenant() + "/" + c.server.name(), c);
        c.close();
    }

    /**
     * A remote server's host and port must be listed in its own permissions.network.egress, judged as the proxy
     * judges a name before resolving it; the proxy checks the rest (the resolved addresses) at each connection.
     */
    private static void egress(ToolServer s, URI url) {
        int port = url.getPort() > 0 ? url.getPort() : url.getScheme().equals("https") ? 443 : 80;
        String target = url.getHost() + ":" + port;
        if (new Policy(s.manifest(), OperatorLimits.DEFAULT).egress(url.getHost(), port) instanceof Decision.Deny(String reason))
            throw AegisException.denied("url: " + target + " is not granted (" + reason + "); list it in the server's "
                    + "permissions.network.egress, e.g. [\"" + target + "\"]");
    }
}
