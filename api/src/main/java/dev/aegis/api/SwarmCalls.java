package dev.aegis.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AgentLocks;
import dev.aegis.core.Coordinator;
import dev.aegis.core.Locks;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Session;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/** The coordination calls of the agent API: locks. Parsing only; {@link Coordinator} checks and acts. */
final class SwarmCalls {
    private final Coordinator coordinator;
    private final int maxBody;

    SwarmCalls(Coordinator coordinator, int maxBody) {
        this.coordinator = coordinator;
        this.maxBody = maxBody;
    }

    /** The agent-API calls this class serves, as {@code group/call}. */
    static final Set<String> CALLS = Set.of("locks/acquire", "locks/renew", "locks/release");

    interface Call {
        void handle(Context ctx, Session s) throws Exception;
    }

    void register(RoutesConfig routes, Function<Context, Session> session) {
        route(routes, session, "/v1/locks/acquire", this::acquire);
        route(routes, session, "/v1/locks/renew", this::renew);
        route(routes, session, "/v1/locks/release", this::release);
    }

    /** Each call runs with its instance bound as the actor, so the audit records it causes name the sandbox. */
    private static void route(RoutesConfig routes, Function<Context, Session> session, String path, Call call) {
        routes.post(path, ctx -> {
            Session s = session.apply(ctx);
            String actor = "agent:" + (s.instance() == null ? "-" : s.instance().value());
            ScopedValue.where(Orchestrator.ACTOR, actor).call(() -> {
                call.handle(ctx, s);
                return null;
            });
        });
    }

    private void acquire(Context ctx, Session s) {
        ObjectNode body = Bodies.object(ctx, maxBody, Set.of("name", "mode", "ttl_ms", "timeout_ms"));
        Locks.Mode mode = body.hasNonNull("mode") ? Locks.Mode.fromWire(Bodies.string(body, "mode")) : Locks.Mode.EXCLUSIVE;
        long ttl = Bodies.number(body, "ttl_ms", AgentLocks.DEFAULT_TTL.toMillis(), 1, Long.MAX_VALUE / 2);
        long timeout = Bodies.number(body, "timeout_ms", 30_000, 0, Long.MAX_VALUE / 2);
        ctx.json(lease(coordinator.locks().acquire(s, Bodies.string(body, "name"), mode, Duration.ofMillis(ttl),
                Duration.ofMillis(timeout))));
    }

    private void renew(Context ctx, Session s) {
        ObjectNode body = Bodies.object(ctx, maxBody, Set.of("name", "token", "ttl_ms"));
        long token = Bodies.number(body, "token", -1, 1, Long.MAX_VALUE);
        if (token < 0) throw dev.aegis.core.AegisException.invalid("token", "is required");
        Optional<Duration> ttl = body.hasNonNull("ttl_ms")
                ? Optional.of(Duration.ofMillis(Bodies.number(body, "ttl_ms", 0, 1, Long.MAX_VALUE / 2))) : Optional.empty();
        ctx.json(lease(coordinator.locks().renew(s, Bodies.string(body, "name"), token, ttl)));
    }

    private void release(Context ctx, Session s) {
        ObjectNode body = Bodies.object(ctx, maxBody, Set.of("name", "token"));
        long token = Bodies.number(body, "token", -1, 1, Long.MAX_VALUE);
        if (token < 0) throw dev.aegis.core.AegisException.invalid("token", "is required");
        ctx.json(Map.of("released", coordinator.locks().release(s, Bodies.string(body, "name"), token)));
    }

    static Map<String, Object> lease(Locks.Lease l) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("name", l.name());
        v.put("mode", l.mode().wire());
        v.put("token", l.token());
        v.put("expires_at", l.expiresAt().toString());
        v.put("ttl_ms", l.ttl().toMillis());
        return v;
    }
}
