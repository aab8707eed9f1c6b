package dev.aegis.api;

import dev.aegis.core.AegisException;
import dev.aegis.core.ApiKey;
import dev.aegis.core.LlmCalls;
import dev.aegis.core.LlmProvider;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * {@code /v1/llm/provider}: the tenant's LLM provider (bring your own key). Admins set and delete it; every role reads
 * it. It names the secret that holds the key and never carries the key itself.
 */
final class LlmRoutes {
    private final Optional<LlmCalls> llm;

    LlmRoutes(Optional<LlmCalls> llm) {
        this.llm = llm;
    }

    void set(Context ctx, ApiKey caller) {
        admin(caller);
        var body = Bodies.object(ctx);
        boolean created = llm().setProvider(caller.tenant(), Bodies.string(body, "kind"), Bodies.string(body, "base_url"),
                Bodies.string(body, "key_secret"));
        ctx.status(created ? 201 : 200).json(view(llm().provider(caller.tenant())
                .orElseThrow(() -> AegisException.notFound("the LLM provider was deleted meanwhile"))));
    }

    void get(Context ctx, ApiKey caller) {
        ctx.json(view(llm().provider(caller.tenant()).orElseThrow(() -> AegisException.notFound("tenant " + caller.tenant()
                + " has no LLM provider; an admin sets one with `aegis llm provider set` (PUT /v1/llm/provider)"))));
    }

    void delete(Context ctx, ApiKey caller) {
        admin(caller);
        llm().deleteProvider(caller.tenant());
        ctx.json(Map.of("deleted", true));
    }

    private LlmCalls llm() {
        return llm.orElseThrow(() -> new AegisException("not_available", "this AEGIS node has no LLM gateway"));
    }

    private static void admin(ApiKey caller) {
        if (!caller.role().equals("admin"))
            throw new AegisException("forbidden", "role \"" + caller.role() + "\" may not change the LLM provider; needs admin");
    }

    static Map<String, Object> view(LlmProvider p) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("kind", p.kind().wire());
        v.put("base_url", p.baseUrl());
        v.put("key_secret", p.keySecret());
        v.put("updated_at", p.updatedAt().toString());
        return v;
    }
}
