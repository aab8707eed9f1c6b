package dev.aegis.core;

/** The outcome of checking the audit chain and its checkpoints: intact, or broken at a named record. */
public sealed interface AuditVerification {
    /**
     * Every record from {@code fromSeq} to {@code lastSeq} chains and every checkpoint over them is signed and
     * matches. Records after {@code lastCheckpointSeq} are chained but not yet covered by a signature.
     */
    record Intact(long fromSeq, long lastSeq, long records, long checkpoints, long lastCheckpointSeq)
            implements AuditVerification {}

    /**
     * The first record that cannot be trusted is {@code firstBadSeq}; {@code problem} says what was found
     * (edited, missing, out of order, not covered by its checkpoint, bad signature) and what to look at.
     */
    record Broken(long firstBadSeq, String problem) implements AuditVerification {}

    default boolean intact() {
        return this instanceof Intact;
    }
}
