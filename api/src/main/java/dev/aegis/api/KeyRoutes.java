package dev.aegis.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.ApiKey;
import dev.aegis.core.ApiKeys;
import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditLog;
import dev.aegis.core.Quantities;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * {@code /v1/keys}: admins create, list and revoke their tenant's keys. The platform admin (an admin key of tenant
 * {@code default}) may do so for any tenant, which is how a new tenant gets its first key. A key's secret is shown
 * once, in the response that creates it.
 */
final class KeyRoutes {
    static final String PLATFORM_TENANT = "default";
    private final ApiKeys keys;
    private final AuditLog audit;

    KeyRoutes(ApiKeys keys, AuditLog audit) {
        this.keys = keys;
        this.audit = audit;
    }

    void create(Context ctx, ApiKey caller) {
        ObjectNode body = Bodies.object(ctx);
        String role = Bodies.string(body, "role");
        String tenant = body.hasNonNull("tenant") ? Bodies.string(body, "tenant") : caller.tenant();
        allowed(caller, tenant);
        Optional<Duration> ttl = Optional.empty();
        if (body.hasNonNull("expires_in")) {
            try {
                ttl = Optional.of(Quantities.duration(Bodies.string(body, "expires_in")));
            } catch (IllegalArgumentException e) {
                throw AegisException.invalid("expires_in", e.getMessage());
            }
        }
        ApiKeys.Minted minted = keys.create(tenant, role, ttl);
        audit.append(AuditEvent.of(tenant, "key:" + caller.id(), "key.create", "key:" + minted.key().id(), Map.of("role", role)));
        Map<String, Object> v = view(minted.key());
        v.put("key", minted.plaintext());
        ctx.status(201).json(v);
    }

    void list(Context ctx, ApiKey caller) {
        String tenant = Optional.ofNullable(ctx.queryParam("tenant")).orElse(caller.tenant());
        allowed(caller, tenant);
        ctx.json(Map.of("keys", keys.list(tenant).stream().map(KeyRoutes::view).toList()));
    }

    void revoke(Context ctx, ApiKey caller) {
        String tenant = Optional.ofNullable(ctx.queryParam("tenant")).orElse(caller.tenant());
        allowed(caller, tenant);
        ApiKey revoked = keys.revoke(tenant, ctx.pathParam("id"));
        audit.append(AuditEvent.of(tenant, "key:" + caller.id(), "key.revoke", "key:" + revoked.id(), Map.of()));
        ctx.json(view(revoked));
    }

    private static void allowed(ApiKey caller, String tenant) {
        if (!caller.role().equals("admin"))
            throw new AegisException("forbidden", "role \"" + caller.role() + "\" may not manage keys; needs admin");
        if (!tenant.equals(caller.tenant()) && !caller.tenant().equals(PLATFORM_TENANT))
            throw new AegisException("forbidden", "tenant: only the platform admin (tenant " + PLATFORM_TENANT
                    + ") manages another tenant's keys", "tenant");
    }

    /** Never the secret or its hash: the id and what it may do. */
    static Map<String, Object> view(ApiKey k) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("id", k.id());
        v.put("tenant", k.tenant());
        v.put("role", k.role());
        v.put("created_at", k.createdAt().toString());
        k.expiresAt().ifPresent(e -> v.put("expires_at", e.toString()));
        k.revokedAt().ifPresent(r -> v.put("revoked_at", r.toString()));
        return v;
    }
}
