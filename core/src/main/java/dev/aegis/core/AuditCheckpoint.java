package dev.aegis.core;

import java.time.Instant;

/**
 * A signed statement over records {@code fromSeq..toSeq} (inclusive): {@code headHash} is the hash of record
 * {@code toSeq} (which commits to the whole chain before it) and {@code merkleRoot} is the RFC 6962 tree head
 * over the hashes of records {@code fromSeq..toSeq}. {@code signature} is Ed25519, base64, over the canonical
 * checkpoint encoding in docs/audit.md. Hashes are lower-case hex.
 */
public record AuditCheckpoint(long fromSeq, long toSeq, Instant time, String headHash, String merkleRoot,
                              String signature) {
    public AuditCheckpoint {
        if (fromSeq < 1 || toSeq < fromSeq) {
            throw AegisException.invalid("checkpoint", "range " + fromSeq + ".." + toSeq + " is empty or starts before 1");
        }
    }

    public long size() {
        return toSeq - fromSeq + 1;
    }
}
