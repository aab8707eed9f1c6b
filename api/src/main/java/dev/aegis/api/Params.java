package dev.aegis.api;

import dev.aegis.core.AegisException;
import com.fasterxml.jackson.databind.JsonNode;
import io.javalin.http.Context;
import java.math.BigDecimal;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.regex.Pattern;

/**
 * Query and path parameters: checked against their schema in the OpenAPI document (integers with a range, strings
 * with an enum, a pattern, a length or a date-time format, booleans), then read with a range or a format.
 */
final class Params {
    private Params() {}

    /** Refuses a parameter value its documented schema does not allow, naming the parameter and what is allowed. */
    static void check(Contract.Param p, String raw) {
        JsonNode s = p.schema();
        switch (s.path("type").asText("string")) {
            case "integer" -> {
                BigDecimal min = s.has("minimum") ? s.get("minimum").decimalValue() : BigDecimal.valueOf(Long.MIN_VALUE);
                BigDecimal max = s.has("maximum") ? s.get("maximum").decimalValue().min(BigDecimal.valueOf(Long.MAX_VALUE))
                        : BigDecimal.valueOf(Long.MAX_VALUE);
                String range = "an integer from " + min.toBigInteger() + " to " + max.toBigInteger();
                if (!INTEGER.matcher(raw).matches()) throw AegisException.invalid(p.name(), Words.shown(raw) + " is not " + range);
                BigDecimal n = new BigDecimal(raw);
                if (n.compareTo(min) < 0 || n.compareTo(max) > 0) throw AegisException.invalid(p.name(), Words.shown(raw) + " is out of range; use " + range);
            }
            case "boolean" -> {
                if (!raw.equals("true") && !raw.equals("false")) throw AegisException.invalid(p.name(), Words.shown(raw) + " is not true or false");
            }
            default -> {
                if (s.has("enum")) {
                    for (JsonNode e : s.get("enum")) if (e.asText().equals(raw)) return;
                    throw AegisException.invalid(p.name(), Words.shown(raw) + " is not allowed; use " + Words.allowed(s));
                }
                if (raw.isEmpty()) throw AegisException.invalid(p.name(), "is empty; give a value or leave the parameter out");
                int max = s.path("maxLength").asInt(MAX_LENGTH);
                if (raw.length() > max) throw AegisException.invalid(p.name(), "is " + raw.length() + " characters long; use at most " + max);
                if (p.pattern().isPresent() && !p.pattern().get().matcher(raw).find())
                    throw AegisException.invalid(p.name(), Words.shown(raw) + " does not match " + s.get("pattern").asText()
                            + (p.description().isEmpty() ? "" : " (" + p.description() + ")"));
                if (s.path("format").asText().equals("date-time")) instant(p.name(), raw);
            }
        }
    }

    /**
     * Refuses a query value whose percent-escapes are not UTF-8 ({@code q=caf%E9}), naming its parameter: decoding
     * would turn the bytes into U+FFFD silently, and a search for the mangled text finds nothing for no clear reason.
     */
    static void utf8(String rawQuery) {
        if (rawQuery == null || rawQuery.indexOf('%') < 0) return;
        for (String pair : rawQuery.split("&")) {
            int eq = pair.indexOf('=');
            String name = eq < 0 ? pair : pair.substring(0, eq);
            if (utf8Escapes(name) && utf8Escapes(eq < 0 ? "" : pair.substring(eq + 1))) continue;
            String field = "query";
            try {
                if (utf8Escapes(name)) field = Words.cut(java.net.URLDecoder.decode(name, java.nio.charset.StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                // a malformed escape in the name: the query string as a whole is named
            }
            throw AegisException.invalid(field, "is not valid UTF-8 once its %-escapes are decoded; percent-encode the UTF-8 bytes of the text");
        }
    }

    private static boolean utf8Escapes(String raw) {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
        for (int i = 0; i < raw.length(); i++) {
            char c = raw.charAt(i);
            if (c == '%' && i + 2 < raw.length() && HEX.matcher(raw.substring(i + 1, i + 3)).matches()) {
                bytes.write(Integer.parseInt(raw.substring(i + 1, i + 3), 16));
                i += 2;
            } else if (c < 0x80) bytes.write(c);
            else return true; // raw non-ASCII in a target: Jetty's business (it refuses or decodes it before here)
        }
        try {
            java.nio.charset.StandardCharsets.UTF_8.newDecoder().decode(java.nio.ByteBuffer.wrap(bytes.toByteArray()));
            return true;
        } catch (java.nio.charset.CharacterCodingException e) {
            return false;
        }
    }

    private static final Pattern HEX = Pattern.compile("[0-9A-Fa-f]{2}");

    /** Longest string parameter when the document gives no maxLength: ids, names and filters are all far shorter. */
    static final int MAX_LENGTH = 256;
    private static final Pattern INTEGER = Pattern.compile("-?[0-9]{1,30}");

    static long integer(Context ctx, String name, long fallback, long min, long max) {
        String raw = ctx.queryParam(name);
        if (raw == null) return fallback;
        try {
            long v = Long.parseLong(raw);
            if (v >= min && v <= max) return v;
        } catch (NumberFormatException ignored) {
            // reported below
        }
        throw AegisException.invalid(name, "\"" + raw + "\" must be an integer from " + min + " to " + max);
    }

    static Instant instant(Context ctx, String name, Instant fallback) {
        String raw = ctx.queryParam(name);
        return raw == null ? fallback : instant(name, raw);
    }

    private static Instant instant(String name, String raw) {
        try {
            return Instant.parse(raw);
        } catch (DateTimeParseException e) {
            throw AegisException.invalid(name, "\"" + raw + "\" is not a time; use ISO-8601, e.g. 2026-11-25T10:00:00Z");
        }
    }
}
