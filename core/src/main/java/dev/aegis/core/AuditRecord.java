package dev.aegis.core;

import java.time.Instant;

/**
 * One durable entry of the audit log: the event plus its place in the chain. {@code prevHash} is the
 * {@code hash} of record {@code seq - 1} (64 zeros for seq 1); {@code hash} is SHA-256 over the canonical
 * encoding described in docs/audit.md. Both are lower-case hex.
 */
public record AuditRecord(long seq, Instant time, AuditEvent event, String prevHash, String hash) {
    public AuditRecord {
        if (seq < 1) throw AegisException.invalid("seq", seq + " is not a sequence number (they start at 1)");
    }
}
