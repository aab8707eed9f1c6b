package dev.aegis.api;

import dev.aegis.core.AegisException;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The one place where errors become HTTP statuses and {@code {error: {code, message, field?}}} bodies. */
final class Errors {
    private static final Logger LOG = LoggerFactory.getLogger(Errors.class);

    private Errors() {}

    static int status(String code) {
        return switch (code) {
            case "invalid_request", "invalid_manifest", "invalid_json", "llm_invalid_request" -> 400;
            case "unauthorized" -> 401;
            case "policy_denied", "forbidden", "llm_model_denied", "llm_budget_exceeded" -> 403;
            case "not_found" -> 404;
            case "method_not_allowed" -> 405;
            case "conflict", "lock_timeout", "deadlock", "lease_expired" -> 409;
            case "request_timeout" -> 408;
            case "payload_too_large" -> 413;
            case "unsupported_media_type" -> 415;
            case "runtime_unavailable", "secret_missing", "limit_exceeded", "llm_not_configured" -> 422;
            case "rate_limited", "quota_exceeded" -> 429;
            case "not_available" -> 501;
            case "fetch_failed" -> 502;
            case "overloaded", "bus_unavailable" -> 503;
            case "tool_server_failed", "tool_result_too_large", "llm_upstream_error" -> 502;
            case "timeout", "llm_timeout" -> 504;
            default -> 500;
        };
    }

    static void write(Context ctx, AegisException e) {
        int status = status(e.code());
        if (status == 500) { // a failure of ours, not of the request: its words stay in the server log
            unexpected(ctx, e);
            return;
        }
        if ((status == 503 || status == 429) && ctx.res().getHeader("Retry-After") == null) ctx.header("Retry-After", "1");
        write(ctx, status, e.code(), e.getMessage(), e.field().orElse(null));
    }

    static void write(Context ctx, int status, String code, String message, String field) {
        ctx.attribute(Gate.ERROR, code);
        Map<String, Object> error = new LinkedHashMap<>();
        error.put("code", code);
        error.put("message", message);
        if (field != null) error.put("field", field);
        ctx.status(status).json(Map.of("error", error));
    }

    /** Anything unexpected: logged with its stack here, never sent to the client. */
    static void unexpected(Context ctx, Exception e) {
        LOG.error("unexpected error on {} {}", ctx.method(), ctx.path(), e);
        write(ctx, 500, "internal_error", "internal error; the server log has details", null);
    }
}
