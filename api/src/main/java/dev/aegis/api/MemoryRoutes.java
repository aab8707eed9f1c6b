package dev.aegis.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.ApiKey;
import dev.aegis.core.Memory;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Policy;
import dev.aegis.core.Quantities;
import dev.aegis.core.Task;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * {@code /v1/memory/...} and task feedback: search the tenant's memory, see its size, delete by tenant, agent or
 * task, and rate a finished task. Every route acts inside the caller's tenant only.
 */
final class MemoryRoutes {
    private static final Set<String> DELETERS = Set.of("admin", "deployer");
    private static final Set<String> RATERS = Set.of("admin", "deployer", "runner");

    private final Memory memory;
    private final Orchestrator orchestrator;

    MemoryRoutes(Memory memory, Orchestrator orchestrator) {
        this.memory = memory;
        this.orchestrator = orchestrator;
    }

    /** Query parameters are checked against the OpenAPI document first ({@link Contract}): unknown ones never get here. */
    void search(Context ctx, ApiKey key) {
        String q = Optional.ofNullable(ctx.queryParam("q")).orElseThrow(() -> AegisException.invalid("q", "is required: the text to search for"));
        Set<Memory.Kind> kinds = list(ctx, "kind").stream().map(k -> Memory.Kind.parse("kind", k)).collect(Collectors.toSet());
        Optional<Boolean> success = Optional.ofNullable(ctx.queryParam("success")).map(s -> switch (s) {
            case "true" -> true;
            case "false" -> false;
            default -> throw AegisException.invalid("success", "\"" + s + "\" must be true or false");
        });
        Optional<Duration> halfLife = Optional.ofNullable(ctx.queryParam("half_life")).map(MemoryRoutes::duration);
        Optional<Double> floor = Optional.ofNullable(ctx.queryParam("min_similarity")).map(s -> {
            try {
                return Double.parseDouble(s);
            } catch (NumberFormatException e) {
                throw AegisException.invalid("min_similarity", "\"" + s + "\" must be a number from -1 to 1");
            }
        });
        Optional<Integer> budget = ctx.queryParam("budget") == null ? Optional.empty()
                : Optional.of((int) Params.integer(ctx, "budget", 0, 16, 32_768));
        Memory.Query query = new Memory.Query(key.tenant(), q, Set.copyOf(list(ctx, "agent")), kinds, Optional.ofNullable(ctx.queryParam("task")),
                Set.copyOf(list(ctx, "tag")), success, ctx.queryParam("since") == null ? Optional.empty()
                : Optional.of(Params.instant(ctx, "since", null)), (int) Params.integer(ctx, "limit", 10, 1, 100), halfLife, floor, budget);
        ctx.json(result(memory.search(query)));
    }

    void stats(Context ctx, ApiKey key) {
        Memory.Stats s = memory.stats(key.tenant());
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("memories", s.memories());
        v.put("by_agent", s.byAgent());
        v.put("bytes", s.bytes());
        v.put("model", s.model());
        v.put("dimension", s.dimension());
        v.put("indexing", Map.of("queued", s.queued(), "indexed_tasks", s.indexed(), "duplicates_skipped", s.skippedDuplicates(),
                "dropped_tasks", s.dropped()));
        ctx.json(v);
    }

    /**
     * {@code DELETE /v1/memory} (everything of the tenant, with {@code ?all=true}), {@code .../agents/{name}} (a
     * namespace: 404 when it holds nothing), {@code .../tasks/{id}} (404 for a task the tenant does not have).
     */
    void delete(Context ctx, ApiKey key, Memory.Scope scope) {
        role(key, DELETERS);
        switch (scope) {
            case Memory.Scope.Tenant t -> {
                if (!"true".equals(ctx.queryParam("all")))
                    throw AegisException.invalid("all", "deleting every memory of the tenant needs ?all=true");
            }
            case Memory.Scope.Agent a -> {
                if (!memory.stats(key.tenant()).byAgent().containsKey(a.agent()))
                    throw AegisException.notFound("no memories in namespace " + a.agent());
            }
            case Memory.Scope.TaskOf t -> orchestrator.task(key.tenant(), t.task());
        }
        long n = memory.delete(scope);
        ctx.json(Map.of("deleted", n));
    }

    /** {@code POST /v1/tasks/{id}/feedback}: {@code {"score": -1..1, "text": "..."}} about a finished task. */
    void feedback(Context ctx, ApiKey key) {
        role(key, RATERS);
        Task task = orchestrator.task(key.tenant(), ctx.pathParam("id"));
        ObjectNode body = Bodies.object(ctx); // held to the Feedback schema already: a number score, a string text
        var score = body.get("score");
        String text = body.hasNonNull("text") ? body.get("text").asText() : "";
        if (!text.isEmpty()) Memory.requireText("text", text);
        if (!task.state().isFinal()) throw AegisException.conflict("task " + task.id() + " is " + task.state().name().toLowerCase()
                + "; feedback is for finished tasks");
        memory.feedback(new Memory.Feedback(key.tenant(), namespace(key.tenant(), task.agent()), task.id(), score.asDouble(), text));
        ctx.status(201).json(Map.of("task", task.id(), "score", score.asDouble(), "stored", true));
    }

    /** The namespace an agent's memories are in (its own, or the one it shares), so feedback lands beside them. */
    private String namespace(String tenant, String agent) {
        try {
            return Policy.memoryNamespace(orchestrator.agent(tenant, agent).manifest());
        } catch (AegisException e) {
            return agent; // the agent is gone; its task is still there
        }
    }

    static Map<String, Object> result(Memory.Result r) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("model", r.model());
        v.put("tokens", r.tokens());
        v.put("hits", r.hits().stream().map(MemoryRoutes::hit).toList());
        return v;
    }

    static Map<String, Object> hit(Memory.Hit h) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("id", h.id());
        v.put("agent", h.agent());
        h.task().ifPresent(t -> v.put("task", t));
        v.put("kind", h.kind().wire());
        v.put("text", h.text());
        h.success().ifPresent(s -> v.put("success", s));
        h.rating().ifPresent(r -> v.put("rating", r));
        v.put("tags", h.tags());
        v.put("created_at", h.createdAt().toString());
        v.put("score", h.score());
        v.put("similarity", h.similarity());
        v.put("merged", h.merged());
        return v;
    }

    private static List<String> list(Context ctx, String name) {
        return ctx.queryParams(name).stream().flatMap(s -> Arrays.stream(s.split(","))).map(String::strip).filter(s -> !s.isEmpty()).toList();
    }

    /** {@code 7d} as well as what manifests take ({@code 36h}, {@code 90m}). */
    static Duration duration(String raw) {
        try {
            if (raw.matches("[0-9]{1,5}d")) return Duration.ofDays(Long.parseLong(raw.substring(0, raw.length() - 1)));
            return Quantities.duration(raw);
        } catch (IllegalArgumentException e) {
            throw AegisException.invalid("half_life", "\"" + raw + "\" is not a duration; use e.g. 7d, 36h, 90m");
        }
    }

    private static void role(ApiKey key, Set<String> allowed) {
        if (!allowed.contains(key.role()))
            throw new AegisException("forbidden", "role \"" + key.role() + "\" may not do this; needs one of " + new TreeSet<>(allowed));
    }
}
