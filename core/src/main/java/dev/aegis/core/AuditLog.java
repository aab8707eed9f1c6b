package dev.aegis.core;

import java.io.OutputStream;
import java.util.List;
import java.util.function.Consumer;

/**
 * The tamper-evident audit log: an append-only, SHA-256 hash-chained sequence of {@link AuditRecord}s with
 * periodic Ed25519-signed checkpoints. The format and the verification algorithm are in docs/audit.md.
 *
 * <p><b>Durability rule.</b> {@link #append} returns only after the record, and every record with a lower
 * sequence number, has been written and fsync'd ({@code fdatasync}) to the log's own files. Callers must call
 * {@code append} <em>before</em> they acknowledge or perform the action it describes (reply to the client,
 * let the request out, start the task): then no acknowledged action is ever missing from the log after a
 * crash. If {@code append} throws, the record may or may not be durable, and the action must not go ahead.
 * After any write or fsync failure the log refuses further appends until it is reopened.
 *
 * <p>Implementations are safe for concurrent use; concurrent appends are totally ordered by sequence number.
 */
public interface AuditLog extends AutoCloseable {
    /** Appends one record; returns it (with seq, time and hashes) once it is durable. See the durability rule. */
    AuditRecord append(AuditEvent event);

    /** Records matching {@code query}, ascending by seq. Never returns records that are not yet durable. */
    List<AuditRecord> query(AuditQuery query);

    /**
     * Delivers every durable record with {@code seq > afterSeq} to {@code listener}, in order, first those
     * already in the log and then new ones as they become durable, on a thread of the log's own, until the
     * subscription is closed. A listener that throws ends its subscription.
     */
    Subscription tail(long afterSeq, Consumer<AuditRecord> listener);

    /** The sequence number of the newest durable record; 0 when the log is empty. */
    long lastSeq();

    /**
     * Checks the chain from the start of the checkpoint interval holding {@code fromSeq} to the end, and every
     * checkpoint signature against {@code publicKey} (PEM or base64 X.509 of an Ed25519 key, e.g. the output
     * of {@link #publicKey()} kept somewhere the log's host cannot change). Names the first bad record.
     */
    AuditVerification verify(long fromSeq, String publicKey, Progress progress);

    /** A quick check for server start: the last checkpoint interval and everything after it, own key. */
    AuditVerification verifyTail();

    /** The checkpoint-signing public key, PEM ({@code -----BEGIN PUBLIC KEY-----}, X.509 SubjectPublicKeyInfo). */
    String publicKey();

    /** Inclusion proof of a record in its checkpoint. Fails with {@code not_found} before it is checkpointed. */
    AuditProof proof(long seq);

    /** Writes records {@code fromSeq..} and their checkpoints as JSON Lines (format in docs/audit.md). */
    void export(long fromSeq, OutputStream out);

    /** Flushes and writes a checkpoint over records not yet covered, so a clean shutdown leaves none unsigned. */
    @Override
    void close();

    /** Called during {@link #verify} every few thousand records. */
    @FunctionalInterface
    interface Progress {
        Progress NONE = (checked, last) -> {};

        void checked(long seq, long lastSeq);
    }

    /** A running {@link #tail}; closing it stops delivery. */
    interface Subscription extends AutoCloseable {
        @Override
        void close();
    }
}
