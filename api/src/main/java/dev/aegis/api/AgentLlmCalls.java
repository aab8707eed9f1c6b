package dev.aegis.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import dev.aegis.core.LlmCalls;
import dev.aegis.core.Session;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The agent API's OpenAI-compatible calls, {@code POST /v1/chat/completions} (streaming or not) and
 * {@code POST /v1/embeddings}, so that any OpenAI client in a sandbox works against the socket. Bodies pass through as
 * the agent wrote them (OpenAI has many optional fields); {@link LlmCalls} checks what AEGIS enforces. A stream is
 * answered with server-sent events: an error before its first chunk is an ordinary JSON error with its status; after
 * it, a last {@code data: {"error": {...}}} event (the shape OpenAI clients raise from), and no {@code [DONE]}.
 */
final class AgentLlmCalls {
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(AgentLlmCalls.class);
    private final LlmCalls llm;
    private final int maxBody;
    private final Function<Context, Session> session;

    AgentLlmCalls(LlmCalls llm, int maxBody, Function<Context, Session> session) {
        this.llm = llm;
        this.maxBody = maxBody;
        this.session = session;
    }

    void chat(Context ctx) throws IOException {
        ObjectNode body = body(ctx);
        JsonNode stream = body.get("stream");
        if (stream != null && !stream.isNull() && !stream.isBoolean()) throw AegisException.invalid("stream", "must be true or false");
        if (stream == null || !stream.asBoolean()) {
            json(ctx, llm.chat(session.apply(ctx), body));
            return;
        }
        Events out = new Events(ctx);
        try {
            llm.stream(session.apply(ctx), body, out::send);
            out.done();
        } catch (AegisException e) {
            if (!out.started()) throw e;
            out.fail(e);
        } catch (RuntimeException e) {
            if (!out.started()) throw e;
            LOG.error("unexpected error in an LLM stream", e); // its words stay here, as Errors does for every route
            out.fail(new AegisException("internal_error", "internal error; the server log has details"));
        }
    }

    void embeddings(Context ctx) {
        json(ctx, llm.embeddings(session.apply(ctx), body(ctx)));
    }

    private ObjectNode body(Context ctx) {
        String type = Optional.ofNullable(ctx.contentType()).orElse("").split(";")[0].strip().toLowerCase();
        if (!type.equals("application/json"))
            throw new AegisException("unsupported_media_type", "Content-Type \"" + type + "\" is not accepted here; use application/json");
        JsonNode node;
        try {
            node = Bodies.JSON.readTree(Bodies.bytes(ctx, maxBody, Duration.ofSeconds(30)));
        } catch (JacksonException e) {
            throw new AegisException("invalid_json", "body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new AegisException("invalid_json", "body is not valid JSON: " + e.getMessage());
        }
        if (node == null || !node.isObject()) throw new AegisException("invalid_request", "body must be a JSON object");
        return (ObjectNode) node;
    }

    private static void json(Context ctx, ObjectNode answer) {
        try {
            ctx.contentType("application/json").result(Bodies.JSON.writeValueAsBytes(answer));
        } catch (JacksonException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The event stream to the agent, begun at its first chunk so that earlier errors keep their HTTP status. */
    private static final class Events {
        private final Context ctx;
        private OutputStream out;

        Events(Context ctx) {
            this.ctx = ctx;
        }

        boolean started() {
            return out != null;
        }

        void send(ObjectNode chunk) {
            try {
                write("data: " + Bodies.JSON.writeValueAsString(chunk) + "\n\n");
            } catch (IOException e) {
                // The agent went away: stop the stream, which closes the provider's connection too.
                throw new AegisException("cancelled", "the agent closed the stream");
            }
        }

        void done() throws IOException {
            write("data: [DONE]\n\n");
        }

        void fail(AegisException e) {
            Map<String, Object> error = new LinkedHashMap<>();
            error.put("code", e.code());
            error.put("message", e.getMessage());
            error.put("type", e.code());
            try {
                write("data: " + Bodies.JSON.writeValueAsString(Map.of("error", error)) + "\n\n");
            } catch (IOException gone) {
                // nobody is listening any more
            }
        }

        private void write(String text) throws IOException {
            if (out == null) {
                ctx.status(200);
                ctx.res().setContentType("text/event-stream");
                ctx.res().setHeader("Cache-Control", "no-cache");
                out = ctx.res().getOutputStream();
            }
            out.write(text.getBytes(StandardCharsets.UTF_8));
            out.flush();
        }
    }
}
