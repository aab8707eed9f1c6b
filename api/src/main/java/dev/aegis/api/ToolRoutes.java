package dev.aegis.api;

import dev.aegis.core.AegisException;
import dev.aegis.core.ApiKey;
import dev.aegis.core.Manifest;
import dev.aegis.core.ToolRegistry;
import dev.aegis.core.ToolServer;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code /v1/tools/servers}: the tenant's MCP tool servers. Admins and deployers add and remove them (a server runs
 * code with the grants it names, like a deployed agent); runners may also test one (it starts the server's sandbox,
 * as their tasks do); every role lists them.
 */
final class ToolRoutes {
    private static final Set<String> WRITERS = Set.of("admin", "deployer");
    private static final Set<String> TESTERS = Set.of("admin", "deployer", "runner");
    private final Optional<ToolRegistry> tools;

    ToolRoutes(Optional<ToolRegistry> tools) {
        this.tools = tools;
    }

    void add(Context ctx, ApiKey caller) {
        role(caller, WRITERS, "add tool servers");
        ToolRegistry.Added added = tools().add(caller.tenant(), Bodies.object(ctx).toString());
        ctx.status(added.created() ? 201 : 200).json(view(added.server()));
    }

    void list(Context ctx, ApiKey caller) {
        ctx.json(Map.of("servers", tools().list(caller.tenant()).stream().map(ToolRoutes::view).toList()));
    }

    void get(Context ctx, ApiKey caller) {
        String name = ctx.pathParam("name");
        ctx.json(view(tools().list(caller.tenant()).stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> AegisException.notFound("tool server \"" + name + "\" is not registered for tenant " + caller.tenant()))));
    }

    void remove(Context ctx, ApiKey caller) {
        role(caller, WRITERS, "remove tool servers");
        tools().remove(caller.tenant(), ctx.pathParam("name"));
        ctx.status(204);
    }

    void test(Context ctx, ApiKey caller) {
        role(caller, TESTERS, "test tool servers");
        String name = ctx.pathParam("name");
        ctx.json(Map.of("name", name, "tools", tools().test(caller.tenant(), name).stream().map(AgentApiServer::tool).toList()));
    }

    private ToolRegistry tools() {
        return tools.orElseThrow(() -> new AegisException("not_available", "this AEGIS node has no MCP tool servers"));
    }

    private static void role(ApiKey caller, Set<String> allowed, String what) {
        if (!allowed.contains(caller.role()))
            throw new AegisException("forbidden", "role \"" + caller.role() + "\" may not " + what + "; needs one of " + allowed);
    }

    /** The registration as it applies: grants as given, limits with their defaults filled in. */
    static Map<String, Object> view(ToolServer s) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("name", s.name());
        v.put("kind", s.remote() ? "http" : "stdio");
        s.url().ifPresentOrElse(u -> v.put("url", u), () -> v.put("command", s.command()));
        Manifest.Permissions p = s.manifest().permissions();
        v.put("permissions", Map.of("filesystem", Map.of("read", p.filesystem().read(), "write", p.filesystem().write()),
                "network", Map.of("egress", p.network().egress())));
        v.put("resources", Views.resources(s.manifest().resources()));
        v.put("created_at", s.createdAt().toString());
        return v;
    }
}
