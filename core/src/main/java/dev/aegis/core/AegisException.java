package dev.aegis.core;

import java.util.Optional;

/**
 * Root of AEGIS's errors. {@code code} is a stable machine-readable word ({@code invalid_manifest},
 * {@code not_found}, ...) that the API maps to an HTTP status in one place; {@code field} names the
 * offending input field when there is one.
 */
public class AegisException extends RuntimeException {
    private final String code;
    private final String field;

    public AegisException(String code, String message) {
        this(code, message, null);
    }

    public AegisException(String code, String message, String field) {
        super(message);
        this.code = code;
        this.field = field;
    }

    public String code() {
        return code;
    }

    public Optional<String> field() {
        return Optional.ofNullable(field);
    }

    public static AegisException notFound(String what) {
        return new AegisException("not_found", what);
    }

    public static AegisException invalid(String field, String message) {
        return new AegisException("invalid_request", field + ": " + message, field);
    }

    public static AegisException conflict(String message) {
        return new AegisException("conflict", message);
    }

    public static AegisException denied(String message) {
        return new AegisException("policy_denied", message);
    }
}
