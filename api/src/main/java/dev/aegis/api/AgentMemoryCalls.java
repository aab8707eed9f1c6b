package dev.aegis.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditLog;
import dev.aegis.core.Decision;
import dev.aegis.core.Manifest;
import dev.aegis.core.Memory;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Session;
import io.javalin.http.Context;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * {@code memory.query} and {@code memory.store} for agents: allowed by the manifest's {@code permissions.memory}
 * ({@code read} queries, {@code read-write} also stores), in the agent's namespace of its tenant (its own, or the one
 * its manifest shares: {@link dev.aegis.core.Policy#memoryNamespace}). Every call's decision is audited, allowed or
 * denied, before anything happens.
 */
final class AgentMemoryCalls {
    private static final Set<Memory.Kind> STORABLE = Set.of(Memory.Kind.NOTE, Memory.Kind.TOOL_OUTPUT, Memory.Kind.LOG);
    private final Memory memory;
    private final AuditLog audit;
    private final long maxBody;

    AgentMemoryCalls(Memory memory, AuditLog audit, long maxBody) {
        this.memory = memory;
        this.audit = audit;
        this.maxBody = maxBody;
    }

    void query(Context ctx, Session s) throws Exception {
        allow(s, "memory.query", Manifest.MemoryAccess.READ);
        ObjectNode body = body(ctx, "query", Set.of("query", "limit", "kinds", "budget", "half_life", "success", "tags"));
        Set<Memory.Kind> kinds = Set.copyOf(strings(body, "kinds").stream().map(k -> Memory.Kind.parse("kinds", k)).toList());
        Optional<Boolean> success = body.hasNonNull("success") ? Optional.of(Bodies.bool(body, "success", false)) : Optional.empty();
        Memory.Query q = new Memory.Query(s.tenant(), Bodies.string(body, "query"), Set.of(s.policy().memoryNamespace()), kinds, Optional.empty(),
                Set.copyOf(strings(body, "tags")), success, Optional.empty(), (int) Bodies.number(body, "limit", 5, 1, 100),
                body.hasNonNull("half_life") ? Optional.of(MemoryRoutes.duration(Bodies.string(body, "half_life"))) : Optional.empty(),
                Optional.empty(), body.hasNonNull("budget") ? Optional.of((int) Bodies.number(body, "budget", 0, 16, 32_768)) : Optional.empty());
        ctx.json(MemoryRoutes.result(memory.search(q)));
    }

    void store(Context ctx, Session s) throws Exception {
        allow(s, "memory.store", Manifest.MemoryAccess.READ_WRITE);
        ObjectNode body = body(ctx, "text", Set.of("text", "kind", "tags"));
        Memory.Kind kind = body.hasNonNull("kind") ? Memory.Kind.parse("kind", Bodies.string(body, "kind")) : Memory.Kind.NOTE;
        if (!STORABLE.contains(kind)) throw AegisException.invalid("kind", "agents store note, tool_output or log memories, not " + kind.wire());
        Memory.Note note = new Memory.Note(s.tenant(), s.policy().memoryNamespace(), s.taskId().isEmpty() ? Optional.empty() : Optional.of(s.taskId()),
                kind, Bodies.string(body, "text"), strings(body, "tags"), Optional.empty());
        String id = ScopedValue.where(Orchestrator.ACTOR, actor(s)).call(() -> memory.store(note));
        ctx.status(201).json(Map.of("id", id));
    }

    /**
     * The call's body. One past the agent API's cap can only be an oversized text (the other fields are small), so
     * it is refused as that field, like a text over {@link Memory#MAX_TEXT} that fits the cap.
     */
    private ObjectNode body(Context ctx, String textField, Set<String> allowed) {
        try {
            return Bodies.object(ctx, maxBody, allowed);
        } catch (AegisException e) {
            if (!e.code().equals("payload_too_large")) throw e;
            throw AegisException.invalid(textField, "the call is over " + maxBody / 1024 + " KiB; a memory or query holds at most "
                    + Memory.MAX_TEXT + " characters (AEGIS chunks long task output itself: log it instead)");
        }
    }

    private void allow(Session s, String call, Manifest.MemoryAccess needed) {
        Decision d = s.policy().memory(needed);
        AuditEvent e = AuditEvent.decided(s.tenant(), actor(s), call, "agent:" + s.agent().name(), d).withAgent(s.agent().name());
        audit.append(s.taskId().isEmpty() ? e : e.withTask(s.taskId()));
        if (d instanceof Decision.Deny(String reason)) throw AegisException.denied(reason);
    }

    private static String actor(Session s) {
        return "agent:" + (s.instance() == null ? s.agent().name() : s.instance().value());
    }

    private static List<String> strings(ObjectNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return List.of();
        if (!v.isArray()) throw AegisException.invalid(field, "must be a list of strings");
        List<String> out = new ArrayList<>();
        for (JsonNode n : v) {
            if (!n.isTextual()) throw AegisException.invalid(field, "must be a list of strings");
            out.add(n.asText());
        }
        return out;
    }
}
