package dev.aegis.core;

import java.util.List;

/**
 * Proof that record {@code seq} with hash {@code recordHash} is in {@code checkpoint}: the RFC 6962 audit path
 * (sibling hashes, leaf level first, lower-case hex) for leaf {@code seq - checkpoint.fromSeq()} of a tree of
 * {@code checkpoint.size()} leaves. Check it with the audit module's {@code InclusionProofs.verify}.
 */
public record AuditProof(long seq, String recordHash, List<String> path, AuditCheckpoint checkpoint) {
    public AuditProof {
        path = List.copyOf(path);
        if (seq < checkpoint.fromSeq() || seq > checkpoint.toSeq()) {
            throw AegisException.invalid("seq", seq + " is outside checkpoint " + checkpoint.fromSeq() + ".."
                    + checkpoint.toSeq());
        }
    }

    public long leafIndex() {
        return seq - checkpoint.fromSeq();
    }
}
