package dev.aegis.api;

import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.NullNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.AgentLocks;
import dev.aegis.core.Bus;
import dev.aegis.core.Coordinator;
import dev.aegis.core.Locks;
import dev.aegis.core.Orchestrator;
import dev.aegis.core.Session;
import dev.aegis.core.Task;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/** The coordination calls of the agent API: locks, the bus, child tasks. Parsing only; {@link Coordinator} checks and acts. */
final class SwarmCalls {
    private final Coordinator coordinator;
    private final int maxBody;

    SwarmCalls(Coordinator coordinator, int maxBody) {
        this.coordinator = coordinator;
        this.maxBody = maxBody;
    }

    /** The agent-API calls this class serves, as {@code group/call}. */
    static final Set<String> CALLS = Set.of("locks/acquire", "locks/renew", "locks/release", "bus/publish", "bus/request",
            "bus/subscribe", "bus/next", "bus/unsubscribe", "tasks/delegate", "tasks/get", "tasks/children");

    interface Call {
        void handle(Context ctx, Session s) throws Exception;
    }

    void register(RoutesConfig routes, Function<Context, Session> session) {
        route(routes, session, "/v1/locks/acquire", this::acquire);
        route(routes, session, "/v1/locks/renew", this::renew);
        route(routes, session, "/v1/locks/release", this::release);
        route(routes, session, "/v1/bus/publish", this::publish);
        route(routes, session, "/v1/bus/request", this::request);
        route(routes, session, "/v1/bus/subscribe", this::subscribe);
        route(routes, session, "/v1/bus/next", this::next);
        route(routes, session, "/v1/bus/unsubscribe", this::unsubscribe);
        route(routes, session, "/v1/tasks/delegate", this::delegate);
        route(routes, session, "/v1/tasks/get", this::get);
        route(routes, session, "/v1/tasks/children", this::children);
    }

    /** Each call runs with its instance bound as the actor, so the audit records it causes name the sandbox. */
    private void route(RoutesConfig routes, Function<Context, Session> session, String path, Call call) {
        String name = path.substring("/v1/".length()).replace('/', '.');
        routes.post(path, ctx -> {
            Session s = session.apply(ctx);
            String actor = "agent:" + (s.instance() == null ? "-" : s.instance().value());
            ScopedValue.where(Orchestrator.ACTOR, actor).call(() -> {
                try {
                    call.handle(ctx, s);
                } catch (AegisException e) {
                    if (MALFORMED.contains(e.code())) coordinator.refused(s, name, e);
                    throw e;
                }
                return null;
            });
        });
    }

    /** Refusals that happen before any decision; denials are audited where they are decided. */
    private static final Set<String> MALFORMED = Set.of("invalid_request", "invalid_json", "unsupported_media_type",
            "payload_too_large");

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
        if (token < 0) throw AegisException.invalid("token", "is required");
        Optional<Duration> ttl = body.hasNonNull("ttl_ms")
                ? Optional.of(Duration.ofMillis(Bodies.number(body, "ttl_ms", 0, 1, Long.MAX_VALUE / 2))) : Optional.empty();
        ctx.json(lease(coordinator.locks().renew(s, Bodies.string(body, "name"), token, ttl)));
    }

    private void release(Context ctx, Session s) {
        ObjectNode body = Bodies.object(ctx, maxBody, Set.of("name", "token"));
        long token = Bodies.number(body, "token", -1, 1, Long.MAX_VALUE);
        if (token < 0) throw AegisException.invalid("token", "is required");
        ctx.json(Map.of("released", coordinator.locks().release(s, Bodies.string(body, "name"), token)));
    }

    private void publish(Context ctx, Session s) throws Exception {
        ObjectNode body = Bodies.object(ctx, maxBody, Set.of("subject", "data"));
        coordinator.bus().publish(s, Bodies.string(body, "subject"), data(body));
        ctx.json(Map.of("ok", true));
    }

    private void request(Context ctx, Session s) throws Exception {
        ObjectNode body = Bodies.object(ctx, maxBody, Set.of("subject", "data", "timeout_ms"));
        long timeout = Bodies.number(body, "timeout_ms", 5_000, 1, Long.MAX_VALUE / 2);
        Bus.Message reply = coordinator.bus().request(s, Bodies.string(body, "subject"), data(body), Duration.ofMillis(timeout));
        ctx.json(message(reply));
    }

    private void subscribe(Context ctx, Session s) {
        ObjectNode body = Bodies.object(ctx, maxBody, Set.of("subject", "buffer"));
        int buffer = (int) Bodies.number(body, "buffer", 256, 1, Integer.MAX_VALUE);
        ctx.json(Map.of("subscription", coordinator.bus().subscribe(s, Bodies.string(body, "subject"), buffer)));
    }

    private void next(Context ctx, Session s) {
        ObjectNode body = Bodies.object(ctx, maxBody, Set.of("subscription", "max", "timeout_ms"));
        int max = (int) Bodies.number(body, "max", 100, 1, 1000);
        long timeout = Bodies.number(body, "timeout_ms", 1_000, 0, Long.MAX_VALUE / 2);
        List<Map<String, Object>> out = new ArrayList<>();
        for (Bus.Delivery d : coordinator.bus().next(s, Bodies.string(body, "subscription"), max, Duration.ofMillis(timeout)))
            out.add(switch (d) {
                case Bus.Message m -> message(m);
                case Bus.Overflow(long dropped) -> Map.of("overflow", dropped);
            });
        ctx.json(Map.of("messages", out));
    }

    private void unsubscribe(Context ctx, Session s) {
        ObjectNode body = Bodies.object(ctx, maxBody, Set.of("subscription"));
        coordinator.bus().unsubscribe(s, Bodies.string(body, "subscription"));
        ctx.json(Map.of("ok", true));
    }

    private void delegate(Context ctx, Session s) {
        ObjectNode body = Bodies.object(ctx, maxBody, Set.of("agent", "input", "wait", "timeout_ms", "cancel_with_parent"));
        String agent = Bodies.string(body, "agent");
        String input = body.has("input") ? body.get("input").toString() : "{}";
        boolean wait = Bodies.bool(body, "wait", false);
        long timeout = Bodies.number(body, "timeout_ms", 600_000, 0, Long.MAX_VALUE / 2);
        Task child = coordinator.tasks().delegate(s, agent, input, wait ? Duration.ofMillis(timeout) : Duration.ZERO,
                Bodies.bool(body, "cancel_with_parent", true));
        ctx.json(Views.task(child, List.of()));
    }

    private void get(Context ctx, Session s) {
        ObjectNode body = Bodies.object(ctx, maxBody, Set.of("task_id", "timeout_ms"));
        long timeout = Bodies.number(body, "timeout_ms", 0, 0, Long.MAX_VALUE / 2);
        ctx.json(Views.task(coordinator.tasks().child(s, Bodies.string(body, "task_id"), Duration.ofMillis(timeout)), List.of()));
    }

    private void children(Context ctx, Session s) {
        Bodies.object(ctx, maxBody, Set.of());
        ctx.json(Map.of("children", coordinator.tasks().children(s).stream().map(t -> Views.task(t, List.of())).toList()));
    }

    /** Any JSON value; it travels as its UTF-8 text. */
    private static byte[] data(ObjectNode body) throws Exception {
        return Bodies.JSON.writeValueAsBytes(body.has("data") ? body.get("data") : NullNode.getInstance());
    }

    /** A payload that is not JSON (published from outside AEGIS on NATS) is handed over as a string. */
    static Map<String, Object> message(Bus.Message m) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("subject", m.subject());
        v.put("data", Views.json(new String(m.payload(), StandardCharsets.UTF_8)));
        m.replyTo().ifPresent(r -> v.put("reply_to", r));
        if (m.seq() > 0) v.put("seq", m.seq());
        return v;
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
