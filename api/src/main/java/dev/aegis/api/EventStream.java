package dev.aegis.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.Bus;
import dev.aegis.core.Coordinator;
import io.javalin.http.sse.SseClient;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * {@code GET /v1/events}: the tenant's task events from the durable stream as server-sent events, each with its
 * stream sequence as the event id. A client that reconnects with {@code Last-Event-ID} (browsers do) or
 * {@code ?after=} gets everything after it that the stream still keeps: at least once. A client too slow for its
 * buffer gets one {@code overflow} event naming where to resume, and the stream closes so it can.
 */
final class EventStream {
    static final int BUFFER = 1024;
    private static final Duration KEEP_ALIVE = Duration.ofSeconds(15);
    /** Without {@code follow}, the stream ends once the stored events stop coming for this long. */
    private static final Duration IDLE = Duration.ofSeconds(1);

    private EventStream() {}

    static void run(SseClient client, Coordinator coordinator, String tenant) {
        var ctx = client.ctx();
        Bus.Subscription sub;
        boolean follow;
        long last;
        try {
            String subject = Optional.ofNullable(ctx.queryParam("subject")).orElse("aegis.tasks.>");
            String header = ctx.header("Last-Event-ID");
            last = ctx.queryParam("after") != null ? Params.integer(ctx, "after", -1, 0, Long.MAX_VALUE)
                    : header != null ? lastEventId(header) : -1;
            String rawFollow = Optional.ofNullable(ctx.queryParam("follow")).orElse("true");
            if (!rawFollow.equals("true") && !rawFollow.equals("false"))
                throw AegisException.invalid("follow", "\"" + rawFollow + "\" must be true or false");
            follow = rawFollow.equals("true");
            sub = coordinator.events(tenant, subject, last, BUFFER);
        } catch (AegisException e) {
            client.sendEvent("error", Map.of("code", e.code(), "message", e.getMessage()));
            client.close();
            return;
        }
        try (sub) {
            while (!client.terminated()) {
                Optional<Bus.Delivery> next = sub.next(follow ? KEEP_ALIVE : IDLE);
                if (next.isEmpty()) {
                    if (!follow) break;
                    client.sendComment("keep-alive");
                    continue;
                }
                switch (next.get()) {
                    case Bus.Message m -> {
                        client.sendEvent("task", event(m), Long.toString(m.seq()));
                        last = m.seq();
                    }
                    case Bus.Overflow(long dropped) -> {
                        client.sendEvent("overflow", Map.of("dropped", dropped, "resume_after", Math.max(last, 0)));
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } finally {
            client.close();
        }
    }

    private static long lastEventId(String raw) {
        try {
            long v = Long.parseLong(raw.strip());
            if (v >= 0) return v;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw AegisException.invalid("Last-Event-ID", "\"" + raw + "\" is not an event id (a stream sequence number)");
    }

    private static JsonNode event(Bus.Message m) {
        JsonNode payload = Views.json(new String(m.payload(), StandardCharsets.UTF_8));
        ObjectNode v = Bodies.JSON.createObjectNode();
        v.put("seq", m.seq());
        v.put("subject", m.subject());
        if (payload.isObject()) v.setAll((ObjectNode) payload);
        else v.set("data", payload);
        return v;
    }
}
