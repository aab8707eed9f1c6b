package dev.aegis.audit;

import dev.aegis.core.AegisException;

/** Errors of the audit log. Codes: {@code audit_unavailable} (cannot write now), {@code audit_damaged} (files need an operator). */
public final class AuditException extends AegisException {
    AuditException(String code, String message, Throwable cause) {
        super(code, message);
        if (cause != null) initCause(cause);
    }

    static AuditException unavailable(String message, Throwable cause) {
        return new AuditException("audit_unavailable", message, cause);
    }

    static AuditException damaged(String message) {
        return new AuditException("audit_damaged", message, null);
    }
}
