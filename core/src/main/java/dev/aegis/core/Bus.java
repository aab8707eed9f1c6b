package dev.aegis.core;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The message bus. Every call names a tenant and subjects relative to it; implementations scope them with
 * {@link Subjects#scoped} so tenants never meet. Two delivery kinds:
 * <ul>
 *   <li>{@link #publish}: at most once, to the subscriptions live at that moment;</li>
 *   <li>{@link #append}: into a bounded durable stream (task events), also delivered live, and readable again from
 *       a sequence number with {@link #replay}, which gives at-least-once to a reader that resumes from the last
 *       sequence it handled.</li>
 * </ul>
 * Each subscription buffers at most its {@code buffer} messages; what does not fit is dropped and reported as one
 * {@link Overflow} at the reader's next {@link Subscription#next}, so a slow reader costs bounded memory and
 * never slows the publisher.
 */
public interface Bus extends AutoCloseable {
    /** The largest payload a message may carry. */
    int MAX_PAYLOAD = 64 * 1024;

    /**
     * @param subject relative to the tenant; {@code replyTo} likewise (an {@code _inbox.} subject)
     * @param seq     the stream sequence for messages of the durable stream, 0 for plain ones
     */
    record Message(String subject, byte[] payload, Optional<String> replyTo, long seq) implements Delivery {
        public Message {
            Objects.requireNonNull(subject, "subject");
            Objects.requireNonNull(payload, "payload");
            Objects.requireNonNull(replyTo, "replyTo");
        }
    }

    /** What {@link Subscription#next} hands out. */
    sealed interface Delivery {}

    /** {@code dropped} messages did not fit the subscription's buffer since the last delivery. */
    record Overflow(long dropped) implements Delivery {}

    /** A live subscription; close it when done (closing twice is harmless). */
    interface Subscription extends AutoCloseable {
        /** The next delivery, waiting up to {@code timeout}; empty when none came. */
        Optional<Delivery> next(Duration timeout) throws InterruptedException;

        /** Up to {@code max} deliveries: waits up to {@code timeout} for the first, then takes what is there. */
        default List<Delivery> next(int max, Duration timeout) throws InterruptedException {
            List<Delivery> out = new java.util.ArrayList<>();
            Optional<Delivery> first = next(timeout);
            if (first.isEmpty()) return out;
            out.add(first.get());
            for (Optional<Delivery> d; out.size() < max && (d = next(Duration.ZERO)).isPresent(); ) out.add(d.get());
            return out;
        }

        @Override
        void close();
    }

    /** At most once: to the tenant's subscriptions matching {@code subject} now, or to none. */
    void publish(String tenant, String subject, byte[] payload, Optional<String> replyTo);

    /** Subscribes to {@code pattern} ({@code *} and {@code >} allowed) with a buffer of {@code buffer} messages. */
    Subscription subscribe(String tenant, String pattern, int buffer);

    /**
     * Appends to the durable stream (subjects under {@link Subjects#EVENTS} only), delivering it live too.
     *
     * @return its sequence number, increasing along the stream
     */
    long append(String tenant, String subject, byte[] payload);

    /**
     * The durable stream's messages matching {@code pattern} with a sequence above {@code afterSeq} (those still
     * kept: the stream is bounded), then new ones as they come. {@code afterSeq < 0} means only new ones.
     */
    Subscription replay(String tenant, String pattern, long afterSeq, int buffer);

    /**
     * Publishes with a fresh reply subject and waits up to {@code timeout} for the first reply.
     *
     * @throws AegisException {@code timeout} when no reply came in time (there may be no subscriber at all)
     */
    default Message request(String tenant, String subject, byte[] payload, Duration timeout) {
        String inbox = Subjects.INBOX + java.util.UUID.randomUUID().toString().replace("-", "");
        try (Subscription replies = subscribe(tenant, inbox, 1)) {
            publish(tenant, subject, payload, Optional.of(inbox));
            Optional<Delivery> reply = replies.next(timeout);
            if (reply.isPresent() && reply.get() instanceof Message m) return m;
            throw new AegisException("timeout", "no reply on \"" + subject + "\" within " + timeout.toMillis()
                    + " ms; is anything subscribed to it?");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AegisException("timeout", "interrupted while waiting for a reply on \"" + subject + "\"");
        }
    }

    /** A one-line description for logs and {@code aegis doctor}: in-process, or which NATS server. */
    String description();

    @Override
    void close();
}
