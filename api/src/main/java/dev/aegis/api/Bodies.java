package dev.aegis.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import io.javalin.http.Context;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.time.Duration;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** Reads request bodies with a size cap, and typed fields of a checked JSON body. */
final class Bodies {
    /**
     * Duplicate keys and anything after the value are errors; numbers are read exactly, so a task's input is stored as
     * the client wrote it.
     */
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS);

    private Bodies() {}

    /**
     * The body's bytes; 413 past {@code max}, whatever Content-Length claims; 408 when it has not all arrived
     * {@code timeout} after the request began (a client dribbling bytes just under the idle timeout).
     */
    static byte[] bytes(Context ctx, long max, Duration timeout) {
        long declared = ctx.req().getContentLengthLong();
        Long started = ctx.attribute(Gate.STARTED);
        long deadline = (started == null ? System.nanoTime() : started) + timeout.toNanos();
        if (declared > max) throw tooLarge(ctx, max, declared <= 2 * max ? declared : 0, deadline);
        try (InputStream in = ctx.req().getInputStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream((int) Math.max(0, Math.min(declared, 1 << 16)));
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) >= 0; ) {
                out.write(buf, 0, n);
                if (out.size() > max) throw tooLarge(ctx, max, max, deadline);
                if (System.nanoTime() > deadline)
                    throw new AegisException("request_timeout", "the request body did not arrive within " + timeout.toSeconds() + " s");
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new AegisException("invalid_request", "could not read the request body: " + e.getMessage());
        }
    }

    /**
     * A body the parser refused. Bytes that are not UTF-8 inside a string are refused as that field (the parser knows
     * which one it was reading), so a client learns which value to fix; anything else is {@code invalid_json}.
     */
    static AegisException notJson(JacksonException e) {
        String field = e.getProcessor() instanceof com.fasterxml.jackson.core.JsonParser p && p.getParsingContext() != null
                ? p.getParsingContext().getCurrentName() : null;
        if (field != null && e.getOriginalMessage() != null && e.getOriginalMessage().contains("UTF-8"))
            return AegisException.invalid(field, "is not valid UTF-8 text (" + e.getOriginalMessage() + "); send UTF-8");
        return new AegisException("invalid_json", "body is not valid JSON: " + e.getOriginalMessage());
    }

    /**
     * A 413 after reading and dropping up to {@code drain} more bytes (within the request's deadline): a server that
     * closes a connection with unread bytes resets it, and a client still sending a body somewhat over the cap would
     * then see a broken pipe instead of the answer. Bodies far over the cap are not read at all.
     */
    private static AegisException tooLarge(Context ctx, long max, long drain, long deadline) {
        try {
            InputStream in = ctx.req().getInputStream();
            byte[] buf = new byte[1 << 16];
            for (long left = drain; left > 0 && System.nanoTime() < deadline; ) {
                int n = in.read(buf, 0, (int) Math.min(buf.length, left));
                if (n < 0) break;
                left -= n;
            }
        } catch (IOException e) {
            // the client went away: nobody to answer
        }
        return tooLarge(max);
    }

    static AegisException tooLarge(long max) {
        return new AegisException("payload_too_large", "request body exceeds " + max + " bytes");
    }

    /** The JSON object body that {@link Contract} parsed and held to the route's schema before the handler ran. */
    static ObjectNode object(Context ctx) {
        JsonNode body = ctx.attribute(Contract.BODY);
        if (body == null || !body.isObject()) throw new IllegalStateException(ctx.method() + " " + ctx.path() + " has no checked JSON body");
        return (ObjectNode) body;
    }

    /**
     * A JSON object body with only the {@code allowed} fields, for the agent API on its socket, which the public
     * OpenAPI document does not describe.
     */
    static ObjectNode object(Context ctx, long max, Set<String> allowed) {
        String type = Optional.ofNullable(ctx.contentType()).orElse("").split(";")[0].strip().toLowerCase();
        if (!type.equals("application/json"))
            throw new AegisException("unsupported_media_type", "Content-Type \"" + type + "\" is not accepted here; use application/json");
        JsonNode node;
        try {
            node = JSON.readTree(bytes(ctx, max, Duration.ofSeconds(30)));
        } catch (JacksonException e) {
            throw notJson(e);
        } catch (IOException e) {
            throw new AegisException("invalid_json", "body is not valid JSON: " + e.getMessage());
        }
        if (node == null || !node.isObject()) throw new AegisException("invalid_request", "body must be a JSON object");
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f))
                throw AegisException.invalid(f, "unknown field; allowed: " + String.join(", ", new TreeSet<>(allowed)));
        }
        return (ObjectNode) node;
    }

    static String string(ObjectNode body, String field) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) throw AegisException.invalid(field, "is required");
        if (!v.isTextual() || v.asText().isBlank()) throw AegisException.invalid(field, "must be a non-empty string");
        return v.asText();
    }

    static boolean bool(ObjectNode body, String field, boolean fallback) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.isBoolean()) throw AegisException.invalid(field, "must be true or false");
        return v.booleanValue();
    }

    static long number(ObjectNode body, String field, long fallback, long min, long max) {
        JsonNode v = body.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.canConvertToLong() || !v.isIntegralNumber() || v.longValue() < min || v.longValue() > max)
            throw AegisException.invalid(field, "must be an integer from " + min + " to " + max);
        return v.longValue();
    }
}
