package dev.aegis.api;

import dev.aegis.core.AegisException;
import dev.aegis.core.ApiKey;
import dev.aegis.core.LlmCalls;
import dev.aegis.core.LlmStore;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.TaskStore;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/** {@code GET /v1/usage}: what a tenant's tasks that finished in [from, to) used, per agent or in total. */
final class UsageRoutes {
    private UsageRoutes() {}

    static void usage(Context ctx, Orchestrator orchestrator, Optional<LlmCalls> llm, ApiKey key) {
        String tenant = Optional.ofNullable(ctx.queryParam("tenant")).orElse(key.tenant());
        if (!tenant.equals(key.tenant()) && !AuditRoutes.platformAdmin(key))
            throw new AegisException("forbidden", "tenant: only the platform admin reads another tenant's usage", "tenant");
        Instant now = Instant.now();
        Instant from = Params.instant(ctx, "from", now.truncatedTo(ChronoUnit.DAYS));
        Instant to = Params.instant(ctx, "to", now);
        String groupBy = Optional.ofNullable(ctx.queryParam("group_by")).orElse("agent");
        if (!Set.of("agent", "tenant").contains(groupBy))
            throw AegisException.invalid("group_by", "\"" + groupBy + "\" is not allowed; use agent or tenant");
        List<TaskStore.Metered> rows = orchestrator.usage(tenant, from, to);
        if (groupBy.equals("tenant"))
            rows = List.of(rows.stream().reduce(new TaskStore.Metered("*", 0, 0, 0, 0, 0, 0), (a, b) -> new TaskStore.Metered("*",
                    a.tasks() + b.tasks(), a.failed() + b.failed(), a.cpuSeconds() + b.cpuSeconds(),
                    a.memoryMibSeconds() + b.memoryMibSeconds(), a.wallSeconds() + b.wallSeconds(), a.egressBytes() + b.egressBytes())));
        // LLM calls count by when they were made; an agent whose calls fall in the range gets a row even without a finished task.
        Map<String, LlmStore.Tokens> tokens = new java.util.TreeMap<>();
        for (LlmStore.Tokens t : llm.map(l -> l.tokens(tenant, from, to)).orElse(List.of()))
            tokens.merge(groupBy.equals("tenant") ? "*" : t.agent(), t, LlmStore.Tokens::plus);
        List<Map<String, Object>> out = new java.util.ArrayList<>();
        for (TaskStore.Metered m : rows) out.add(view(m, tokens.remove(m.agent())));
        for (Map.Entry<String, LlmStore.Tokens> t : tokens.entrySet())
            out.add(view(new TaskStore.Metered(t.getKey(), 0, 0, 0, 0, 0, 0), t.getValue()));
        ctx.json(Map.of("tenant", tenant, "from", from.toString(), "to", to.toString(), "group_by", groupBy, "usage", out));
    }

    private static Map<String, Object> view(TaskStore.Metered m, LlmStore.Tokens llm) {
        LlmStore.Tokens t = llm == null ? LlmStore.Tokens.none(m.agent()) : llm;
        Map<String, Object> v = new LinkedHashMap<>();
        if (!m.agent().equals("*")) v.put("agent", m.agent());
        v.put("tasks", m.tasks());
        v.put("failed", m.failed());
        v.put("cpu_seconds", m.cpuSeconds());
        v.put("memory_mib_seconds", m.memoryMibSeconds());
        v.put("wall_seconds", m.wallSeconds());
        v.put("egress_bytes", m.egressBytes());
        v.put("llm_calls", t.calls());
        v.put("llm_prompt_tokens", t.promptTokens());
        v.put("llm_completion_tokens", t.completionTokens());
        v.put("llm_tokens", t.total());
        return v;
    }
}
