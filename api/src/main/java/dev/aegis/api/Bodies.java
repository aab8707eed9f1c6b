package dev.aegis.api;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.aegis.core.AegisException;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/** Reads request bodies with a size cap and checks their fields: unknown fields and wrong types are errors. */
final class Bodies {
    static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_READING_DUP_TREE_KEY);

    private Bodies() {}

    /** The body's bytes; 413 past {@code max}, whatever Content-Length claims. */
    static byte[] bytes(Context ctx, long max) {
        long declared = ctx.req().getContentLengthLong();
        if (declared > max) throw tooLarge(max);
        try (InputStream in = ctx.req().getInputStream()) {
            byte[] data = in.readNBytes((int) Math.min(max + 1, Integer.MAX_VALUE - 8));
            if (data.length > max) throw tooLarge(max);
            return data;
        } catch (IOException e) {
            throw new AegisException("invalid_request", "could not read the request body: " + e.getMessage());
        }
    }

    static AegisException tooLarge(long max) {
        return new AegisException("payload_too_large", "request body exceeds " + max + " bytes");
    }

    /** A JSON object body with only the {@code allowed} fields. */
    static ObjectNode object(Context ctx, long max, Set<String> allowed) {
        requireType(ctx, "application/json");
        JsonNode node;
        try {
            node = JSON.readTree(bytes(ctx, max));
        } catch (JacksonException e) {
            throw new AegisException("invalid_json", "body is not valid JSON: " + e.getOriginalMessage());
        } catch (IOException e) {
            throw new AegisException("invalid_json", "body is not valid JSON: " + e.getMessage());
        }
        if (node == null || !node.isObject())
            throw new AegisException("invalid_request", "body must be a JSON object");
        for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!allowed.contains(f))
                throw AegisException.invalid(f, "unknown field; allowed: " + String.join(", ", new TreeSet<>(allowed)));
        }
        return (ObjectNode) node;
    }

    static void requireType(Context ctx, String... types) {
        String got = Optional.ofNullable(ctx.contentType()).orElse("").split(";")[0].strip().toLowerCase();
        for (String t : types) if (t.equals(got)) return;
        throw new AegisException("unsupported_media_type",
                "Content-Type \"" + got + "\" is not accepted here; use " + String.join(" or ", types));
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
