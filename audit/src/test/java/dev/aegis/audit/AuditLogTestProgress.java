package dev.aegis.audit;

import dev.aegis.core.AuditLog;

/** Shorthand for tests that do not watch progress. */
final class AuditLogTestProgress {
    static final AuditLog.Progress NONE = AuditLog.Progress.NONE;

    private AuditLogTestProgress() {}
}
