package dev.aegis.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.Agent;
import dev.aegis.core.AgentFiles;
import dev.aegis.core.ApiKey;
import dev.aegis.core.ApiKeys;
import dev.aegis.core.AuditLog;
import dev.aegis.core.BoundedCache;
import dev.aegis.core.Coordinator;
import dev.aegis.core.Memory;
import dev.aegis.core.LlmCalls;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Task;
import dev.aegis.core.TaskStore;
import dev.aegis.core.ToolRegistry;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.LocalConnector;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * The public HTTP API: every route but {@code /healthz} needs an API key ({@code Authorization: Bearer ...});
 * requests are parsed into values here, and the {@link Orchestrator} never sees HTTP.
 */
public final class ApiServer implements AutoCloseable {
    private static final Set<String> DEPLOYERS = Set.of("admin", "deployer");
    private static final Set<String> RUNNERS = Set.of("admin", "deployer", "runner");
    private static final String KEY = "aegis.key";

    private final Orchestrator orchestrator;
    private final java.util.Optional<LlmCalls> llm;
    private final ApiKeys keys;
    private final AgentFiles files;
    private final ApiConfig config;
    private final Javalin app;
    private final Gate gate;
    private final McpEndpoint mcp;
    /** The in-process connector {@code /mcp} sends its tool calls through; made when the server starts. */
    private volatile LocalConnector local;
    /** Each live route's operation in the OpenAPI document, by {@code METHOD /path}; a route missing there fails start-up. */
    private final Map<String, Contract.Operation> operations;

    public ApiServer(Orchestrator orchestrator, Coordinator coordinator, ApiKeys keys, AgentFiles files, AuditLog audit,
                     ApiConfig config) {
        this(orchestrator, coordinator, keys, files, audit, config, Memory.NONE);
    }

    /** With {@code memory}, the {@code /v1/memory} routes and task feedback work; with {@link Memory#NONE} they answer 501. */
    public ApiServer(Orchestrator orchestrator, Coordinator coordinator, ApiKeys keys, AgentFiles files, AuditLog audit,
                     ApiConfig config, Memory memory) {
        this(orchestrator, coordinator, keys, files, audit, config, memory, java.util.Optional.empty(), java.util.Optional.empty());
    }

    /**
     * With {@code llm}, the tenant's LLM provider can be set, and usage and tasks show the tokens their calls used; with
     * {@code tools}, the tenants manage their MCP tool servers under {@code /v1/tools/servers} (else those answer 501).
     */
    public ApiServer(Orchestrator orchestrator, Coordinator coordinator, ApiKeys keys, AgentFiles files, AuditLog audit,
                     ApiConfig config, Memory memory, java.util.Optional<LlmCalls> llm, java.util.Optional<ToolRegistry> tools) {
        MemoryRoutes memoryRoutes = new MemoryRoutes(memory, orchestrator);
        ToolRoutes toolRoutes = new ToolRoutes(tools);
        this.llm = llm;
        LlmRoutes llmRoutes = new LlmRoutes(llm);
        AuditRoutes auditRoutes = new AuditRoutes(audit);
        KeyRoutes keyRoutes = new KeyRoutes(keys, audit);
        SecretRoutes secretRoutes = new SecretRoutes(orchestrator.secrets());
        Gate gate = new Gate(new RateLimits(config.rateLimits()));
        Metrics metrics = new Metrics(orchestrator);
        gate.metrics(metrics);
        this.gate = gate;
        this.orchestrator = orchestrator;
        this.keys = keys;
        this.files = files;
        this.config = config;
        this.mcp = new McpEndpoint(() -> local, config.maxWait().plusMinutes(1));
        this.app = Javalin.create(cfg -> {
            cfg.concurrency.useVirtualThreads = true;
            cfg.startup.showJavalinBanner = false;
            cfg.http.maxRequestSize = config.maxBodyBytes();
            cfg.http.prefer405over404 = true;
            cfg.jetty.addConnector((server, http) -> config.transport().connector(server, http, config.host(), config.port()));
            cfg.jetty.addConnector((server, http) -> local = new LocalConnector(server, new HttpConnectionFactory(http)));
            cfg.jetty.modifyServer(server -> server.setErrorHandler(new JettyErrors()));
            cfg.jetty.modifyServletContextHandler(handler -> handler.setErrorHandler(new JettyErrors()));
            cfg.routes.exception(AegisException.class, (e, ctx) -> Errors.write(ctx, e));
            cfg.routes.exception(HttpResponseException.class, (e, ctx) -> Errors.write(ctx, e.getStatus(),
                    e.getStatus() == 404 ? "not_found" : e.getStatus() == 405 ? "method_not_allowed" : "http_" + e.getStatus(),
                    e.getStatus() == 404 ? "no route " + ctx.method() + " " + ctx.path() : e.getMessage(), null));
            cfg.routes.exception(Exception.class, (e, ctx) -> Errors.unexpected(ctx, e));
            cfg.routes.before(gate::open);
            cfg.routes.after(ctx -> gate.close(ctx, ctx.attribute(KEY)));
            cfg.routes.get("/healthz", ctx -> ctx.json(Map.of("status", "ok")));
            cfg.routes.get("/metrics", ctx -> {
                scraper(ctx, config);
                ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape());
            });
            cfg.routes.get("/openapi.json", ctx -> ctx.contentType("application/json").result(OpenApi.document()));
            cfg.routes.before("/v1/*", this::authenticate);
            cfg.routes.before("/mcp", this::authenticate);
            cfg.routes.beforeMatched(this::check);
            cfg.routes.post("/v1/agents", ctx -> as(ctx, () -> deploy(ctx)));
            cfg.routes.get("/v1/agents", ctx -> ctx.json(Map.of("agents",
                    orchestrator.agents(tenant(ctx)).stream().map(Views::agent).toList())));
            cfg.routes.get("/v1/agents/{name}", ctx -> ctx.json(Views.agent(orchestrator.agent(tenant(ctx), ctx.pathParam("name")))));
            cfg.routes.post("/v1/tasks", ctx -> as(ctx, () -> submit(ctx)));
            cfg.routes.get("/v1/tasks", ctx -> ctx.json(Map.of("tasks", orchestrator.tasks(tenant(ctx), limit(ctx)).stream()
                    .map(t -> Views.task(t, java.util.List.of())).toList())));
            cfg.routes.get("/v1/tasks/{id}", ctx -> ctx.contentType("application/json").result(view(tenant(ctx), ctx.pathParam("id"))));
            cfg.routes.get("/v1/tasks/{id}/logs", this::logs);
            cfg.routes.get("/v1/tasks/{id}/children", ctx -> ctx.json(Map.of("children",
                    orchestrator.children(tenant(ctx), ctx.pathParam("id")).stream().map(t -> Views.task(t, java.util.List.of())).toList())));
            cfg.routes.sse("/v1/events", client -> EventStream.run(client, coordinator, tenant(client.ctx())));
            cfg.routes.sse("/v1/tasks/{id}/logs/stream", client -> new LogStream(orchestrator, client, tenant(client.ctx())).run());
            cfg.routes.post("/v1/tasks/{id}/cancel", ctx -> as(ctx, () -> {
                role(ctx, RUNNERS);
                Task t = orchestrator.cancel(tenant(ctx), ctx.pathParam("id"));
                ctx.json(view(t.tenant(), t.id()));
            }));
            cfg.routes.post("/v1/keys", ctx -> keyRoutes.create(ctx, ctx.attribute(KEY)));
            cfg.routes.get("/v1/keys", ctx -> keyRoutes.list(ctx, ctx.attribute(KEY)));
            cfg.routes.delete("/v1/keys/{id}", ctx -> keyRoutes.revoke(ctx, ctx.attribute(KEY)));
            cfg.routes.put("/v1/secrets/{name}", ctx -> as(ctx, () -> secretRoutes.set(ctx, ctx.attribute(KEY))));
            cfg.routes.get("/v1/secrets", ctx -> secretRoutes.list(ctx, ctx.attribute(KEY)));
            cfg.routes.delete("/v1/secrets/{name}", ctx -> as(ctx, () -> secretRoutes.delete(ctx, ctx.attribute(KEY))));
            cfg.routes.get("/v1/usage", ctx -> UsageRoutes.usage(ctx, orchestrator, llm, ctx.attribute(KEY)));
            cfg.routes.put("/v1/llm/provider", ctx -> as(ctx, () -> llmRoutes.set(ctx, ctx.attribute(KEY))));
            cfg.routes.get("/v1/llm/provider", ctx -> llmRoutes.get(ctx, ctx.attribute(KEY)));
            cfg.routes.delete("/v1/llm/provider", ctx -> as(ctx, () -> llmRoutes.delete(ctx, ctx.attribute(KEY))));
            cfg.routes.post("/v1/tools/servers", ctx -> as(ctx, () -> toolRoutes.add(ctx, ctx.attribute(KEY))));
            cfg.routes.get("/v1/tools/servers", ctx -> toolRoutes.list(ctx, ctx.attribute(KEY)));
            cfg.routes.get("/v1/tools/servers/{name}", ctx -> toolRoutes.get(ctx, ctx.attribute(KEY)));
            cfg.routes.delete("/v1/tools/servers/{name}", ctx -> as(ctx, () -> toolRoutes.remove(ctx, ctx.attribute(KEY))));
            cfg.routes.post("/v1/tools/servers/{name}/test", ctx -> toolRoutes.test(ctx, ctx.attribute(KEY)));
            cfg.routes.get("/v1/instances", ctx -> ctx.json(Map.of("instances",
                    orchestrator.instances(tenant(ctx)).stream().map(Views::instance).toList())));
            cfg.routes.post("/v1/instances/{id}/terminate", ctx -> as(ctx, () -> {
                role(ctx, RUNNERS);
                ctx.json(Views.instance(orchestrator.terminate(tenant(ctx), ctx.pathParam("id"))));
            }));
            cfg.routes.post("/v1/tasks/{id}/feedback", ctx -> as(ctx, () -> memoryRoutes.feedback(ctx, ctx.attribute(KEY))));
            cfg.routes.get("/v1/memory/search", ctx -> memoryRoutes.search(ctx, ctx.attribute(KEY)));
            cfg.routes.get("/v1/memory/stats", ctx -> memoryRoutes.stats(ctx, ctx.attribute(KEY)));
            cfg.routes.delete("/v1/memory", ctx -> as(ctx, () -> memoryRoutes.delete(ctx, ctx.attribute(KEY),
                    new Memory.Scope.Tenant(tenant(ctx)))));
            cfg.routes.delete("/v1/memory/agents/{name}", ctx -> as(ctx, () -> memoryRoutes.delete(ctx, ctx.attribute(KEY),
                    new Memory.Scope.Agent(tenant(ctx), ctx.pathParam("name")))));
            cfg.routes.delete("/v1/memory/tasks/{id}", ctx -> as(ctx, () -> memoryRoutes.delete(ctx, ctx.attribute(KEY),
                    new Memory.Scope.TaskOf(tenant(ctx), ctx.pathParam("id")))));
            cfg.routes.get("/v1/audit", ctx -> auditRoutes.query(ctx, ctx.attribute(KEY)));
            cfg.routes.get("/v1/audit/verify", ctx -> {
                AuditRoutes.requirePlatformAdmin(ctx.attribute(KEY));
                auditRoutes.verify(ctx);
            });
            cfg.routes.get("/v1/audit/pubkey", auditRoutes::publicKey);
            cfg.routes.get("/v1/audit/export", ctx -> {
                AuditRoutes.requirePlatformAdmin(ctx.attribute(KEY));
                auditRoutes.export(ctx);
            });
            cfg.routes.get("/v1/audit/{seq}/proof", ctx -> auditRoutes.proof(ctx, ctx.attribute(KEY)));
            cfg.routes.post("/mcp", ctx -> mcp.handle(ctx, presented(ctx)));
        });
        Contract contract = Contract.load();
        this.operations = routes().stream().collect(java.util.stream.Collectors.toUnmodifiableMap(r -> r,
                r -> contract.operation(r.substring(0, r.indexOf(' ')), r.substring(r.indexOf(' ') + 1))));
    }

    /** Every matched request, before its handler: held to what the OpenAPI document says of its route. */
    private void check(Context ctx) {
        var endpoint = ctx.endpoints().matchedHttpEndpoint();
        if (endpoint == null) return;
        Contract.Operation op = operations.get(endpoint.method.name() + " " + endpoint.path);
        if (op == null) throw new IllegalStateException(endpoint.method.name() + " " + endpoint.path + " has no operation");
        op.check(ctx, config.maxBodyBytes(), config.transport().bodyTimeout());
    }

    public ApiServer start() {
        app.start();
        return this;
    }

    /** The live routes as {@code METHOD /path}, for checking them against the OpenAPI document. */
    public java.util.List<String> routes() {
        java.util.Set<String> verbs = Set.of("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS");
        return app.unsafe.internalRouter.allHttpHandlers().stream()
                .filter(e -> verbs.contains(e.endpoint.method.name())) // not the before/after filters
                .map(e -> e.endpoint.method.name() + " " + e.endpoint.path).distinct().sorted().toList();
    }

    public int port() {
        return app.port();
    }

    /** Where clients reach the API: {@code http://} or, with TLS, {@code https://}. */
    public String url() {
        return (config.transport().tls().isPresent() ? "https://" : "http://") + config.host() + ":" + port();
    }

    @Override
    public void close() {
        app.stop();
        mcp.stop();
    }

    interface Call {
        void run() throws Exception;
    }

    /** Runs a state-changing call with its caller bound, so the audit log names who did it. */
    private static void as(Context ctx, Call call) throws Exception {
        ApiKey key = ctx.attribute(KEY);
        ScopedValue.where(Orchestrator.ACTOR, "key:" + key.id()).call(() -> {
            call.run();
            return null;
        });
    }

    /** {@code /metrics}: the configured scraper token, or an admin key. */
    private void scraper(Context ctx, ApiConfig config) {
        String header = ctx.header("Authorization");
        String presented = header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7).strip() : null;
        if (presented != null && config.metricsToken().isPresent()
                && java.security.MessageDigest.isEqual(presented.getBytes(), config.metricsToken().get().getBytes())) return;
        ApiKey key = keys.verify(presented).orElseThrow(() -> new AegisException("unauthorized",
                "metrics need the scraper token (AEGIS_METRICS_TOKEN) or an admin key"));
        if (!key.role().equals("admin")) throw new AegisException("forbidden", "metrics need an admin key or the scraper token");
    }

    /** The key the caller sent: {@code Authorization: Bearer ...}, else {@code X-API-Key}; null for none. */
    private static String presented(Context ctx) {
        String header = ctx.header("Authorization");
        return header != null && header.regionMatches(true, 0, "Bearer ", 0, 7) ? header.substring(7) : ctx.header("X-API-Key");
    }

    private void authenticate(Context ctx) {
        String presented = presented(ctx);
        ApiKey key = keys.verify(presented).orElseThrow(() -> new AegisException("unauthorized",
                presented == null ? "missing API key: send Authorization: Bearer aeg_live_..." : "invalid or revoked API key"));
        ctx.attribute(KEY, key);
        gate.limit(ctx, key);
    }

    private static String tenant(Context ctx) {
        ApiKey key = ctx.attribute(KEY);
        return key.tenant();
    }

    private static void role(Context ctx, Set<String> allowed) {
        ApiKey key = ctx.attribute(KEY);
        if (!allowed.contains(key.role()))
            throw new AegisException("forbidden", "role \"" + key.role() + "\" may not do this; needs one of " + allowed);
    }

    private static int limit(Context ctx) {
        String raw = ctx.queryParam("limit");
        if (raw == null) return 50;
        try {
            int n = Integer.parseInt(raw);
            if (n >= 1 && n <= 500) return n;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw AegisException.invalid("limit", "\"" + raw + "\" must be an integer from 1 to 500");
    }

    /**
     * A task as JSON. The store hands out one unchanging {@link TaskStore.Detailed} per ended task, so the JSON of an
     * ended task is kept for as long as the store keeps that object and no LLM call was metered on this node since.
     */
    private String view(String tenant, String id) throws IOException {
        TaskStore.Detailed d = orchestrator.detailed(tenant, id);
        long metered = llm.map(LlmCalls::meteredCalls).orElse(0L);
        Rendered r = rendered.get(id);
        if (r != null && r.task() == d && r.metered() == metered) return r.json();
        Map<String, Object> v = Views.task(d.task(), d.transitions());
        llm.map(l -> l.taskTokens(tenant, id)).filter(t -> t.calls() > 0).ifPresent(t -> v.put("llm", Map.of("calls", t.calls(),
                "prompt_tokens", t.promptTokens(), "completion_tokens", t.completionTokens(), "total_tokens", t.total())));
        String json = Bodies.JSON.writeValueAsString(v);
        if (d.task().state().isFinal()) rendered.put(id, new Rendered(d, metered, json), json.length());
        return json;
    }

    private record Rendered(TaskStore.Detailed task, long metered, String json) {}

    private final BoundedCache<String, Rendered> rendered = new BoundedCache<>(10_000, 32L << 20, 256L << 10);

    /** Deploy by upload ({@code application/gzip}: a tar.gz of the agent folder) or by an allowed host path. */
    private void deploy(Context ctx) throws IOException {
        role(ctx, DEPLOYERS);
        String type = String.valueOf(ctx.contentType()).split(";")[0].strip().toLowerCase();
        Agent agent;
        if (type.equals("application/gzip") || type.equals("application/x-gzip")) {
            byte[] body = Bodies.bytes(ctx, config.maxBodyBytes(), config.transport().bodyTimeout());
            Path staging = files.unpack(new ByteArrayInputStream(body), config.maxBodyBytes() * 8);
            try {
                agent = orchestrator.deploy(tenant(ctx), staging, "upload:agent.yaml");
            } finally {
                files.delete(staging);
            }
        } else {
            ObjectNode body = Bodies.object(ctx);
            Path folder = allowedFolder(Bodies.string(body, "path"));
            agent = orchestrator.deploy(tenant(ctx), folder, folder.resolve("agent.yaml").toString());
        }
        ctx.status(201).json(Views.agent(agent));
    }

    private Path allowedFolder(String raw) throws IOException {
        Path p = Path.of(raw);
        if (!p.isAbsolute()) throw AegisException.invalid("path", "\"" + raw + "\" must be an absolute path");
        if (!java.nio.file.Files.isDirectory(p)) throw AegisException.invalid("path", "\"" + raw + "\" is not a folder on the server");
        Path real = p.toRealPath();
        for (Path root : config.deployRoots())
            if (real.startsWith(root.toRealPath())) return real;
        throw new AegisException("forbidden", "path: \"" + raw + "\" is outside the folders this server deploys from "
                + config.deployRoots() + "; upload a tar.gz instead (Content-Type: application/gzip)", "path");
    }

    private void submit(Context ctx) throws IOException {
        role(ctx, RUNNERS);
        ObjectNode body = Bodies.object(ctx);
        String agent = Bodies.string(body, "agent");
        JsonNode input = body.has("input") ? body.get("input") : Bodies.JSON.createObjectNode();
        boolean wait = Bodies.bool(body, "wait", false);
        long timeout = Bodies.number(body, "timeout_ms", config.maxWait().toMillis(), 1, config.maxWait().toMillis());
        int priority = (int) Bodies.number(body, "priority", Orchestrator.DEFAULT_PRIORITY, 0, 9);
        Task task = orchestrator.submit(tenant(ctx), agent, input.toString(), priority, null);
        if (wait) task = orchestrator.await(task.tenant(), task.id(), Duration.ofMillis(timeout));
        ctx.status(task.state().isFinal() ? 200 : 202).contentType("application/json").result(view(task.tenant(), task.id()));
    }

    private void logs(Context ctx) {
        long after = 0;
        String raw = ctx.queryParam("after");
        if (raw != null) {
            try {
                after = Long.parseLong(raw);
            } catch (NumberFormatException e) {
                throw AegisException.invalid("after", "\"" + raw + "\" must be a log sequence number");
            }
        }
        ctx.json(Map.of("logs", orchestrator.logs(tenant(ctx), ctx.pathParam("id"), after).stream().map(Views::log).toList()));
    }
}
