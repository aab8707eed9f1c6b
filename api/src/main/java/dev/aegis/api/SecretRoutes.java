package dev.aegis.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.ApiKey;
import dev.aegis.core.SecretStore;
import dev.aegis.core.Secrets;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * {@code /v1/secrets}: admins and deployers set and delete their tenant's secrets, every role lists their names.
 * A value goes in and never comes out: no route, log line or audit record carries it.
 */
final class SecretRoutes {
    private static final Set<String> WRITERS = Set.of("admin", "deployer");
    private final Secrets secrets;

    SecretRoutes(Secrets secrets) {
        this.secrets = secrets;
    }

    void set(Context ctx, ApiKey caller) {
        writer(caller);
        ObjectNode body = Bodies.object(ctx);
        JsonNode value = body.get("value");
        if (value == null || !value.isTextual()) throw AegisException.invalid("value", "is required: the secret as a string");
        String name = ctx.pathParam("name");
        boolean created = secrets.set(caller.tenant(), name, value.textValue());
        SecretStore.Info info = secrets.list(caller.tenant()).stream().filter(i -> i.name().equals(name)).findFirst()
                .orElseThrow(() -> AegisException.notFound("secret \"" + name + "\" was deleted meanwhile"));
        ctx.status(created ? 201 : 200).json(view(info));
    }

    void list(Context ctx, ApiKey caller) {
        ctx.json(Map.of("secrets", secrets.list(caller.tenant()).stream().map(SecretRoutes::view).toList()));
    }

    void delete(Context ctx, ApiKey caller) {
        writer(caller);
        String name = ctx.pathParam("name");
        secrets.delete(caller.tenant(), name);
        ctx.json(Map.of("name", name, "deleted", true));
    }

    private static void writer(ApiKey caller) {
        if (!WRITERS.contains(caller.role()))
            throw new AegisException("forbidden", "role \"" + caller.role() + "\" may not change secrets; needs one of " + WRITERS);
    }

    static Map<String, Object> view(SecretStore.Info i) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("name", i.name());
        v.put("created_at", i.createdAt().toString());
        v.put("updated_at", i.updatedAt().toString());
        return v;
    }
}
