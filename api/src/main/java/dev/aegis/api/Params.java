package dev.aegis.api;

import dev.aegis.core.AegisException;
import io.javalin.http.Context;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/** Query parameters read with a range or a format, and errors that name the parameter and say what is allowed. */
final class Params {
    private Params() {}

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
        if (raw == null) return fallback;
        try {
            return Instant.parse(raw);
        } catch (DateTimeParseException e) {
            throw AegisException.invalid(name, "\"" + raw + "\" is not a time; use ISO-8601, e.g. 2026-11-25T10:00:00Z");
        }
    }
}
