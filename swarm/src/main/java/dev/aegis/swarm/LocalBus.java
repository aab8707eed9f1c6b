package dev.aegis.swarm;

import dev.aegis.core.AegisException;
import dev.aegis.core.Bus;
import dev.aegis.core.Subjects;
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * {@link Bus} in this process, the default of a single node. Subscriptions are matched on scoped subjects, as
 * NATS matches them, so behaviour is the same on both buses. The durable stream is a ring of the last
 * {@code streamCapacity} messages in memory: it survives a slow or reconnecting reader, not a restart of the
 * node (the task store keeps every lifecycle step; NATS JetStream keeps the stream on disk in cluster mode).
 */
public final class LocalBus implements Bus {
    /**
     * Patterns are kept relative to the tenant (subscriptions are filed by tenant already) with their space: a
     * relative match in the same space is exactly a scoped match, without building scoped strings per publish.
     */
    private record Sub(String pattern, boolean inbox, Mailbox box, boolean stream) {
        boolean matches(String subject) {
            return inbox == Subjects.inbox(subject) && Subjects.matches(pattern, subject);
        }
    }

    private record Stored(long seq, String tenant, Message message) {}

    private final int streamCapacity;
    /** By tenant: a publish looks only at its own tenant's subscriptions. */
    private final Map<String, List<Sub>> subs = new ConcurrentHashMap<>();
    private final ArrayDeque<Stored> stream = new ArrayDeque<>();
    private long lastSeq;

    public LocalBus(int streamCapacity) {
        this.streamCapacity = streamCapacity;
    }

    public LocalBus() {
        this(100_000);
    }

    @Override
    public void publish(String tenant, String subject, byte[] payload, Optional<String> replyTo) {
        requirePlain(subject);
        replyTo.ifPresent(r -> Subjects.literal("reply_to", r));
        checkSize(payload);
        deliver(tenant, new Message(subject, payload, replyTo, 0), false);
    }

    @Override
    public Subscription subscribe(String tenant, String pattern, int buffer) {
        return register(tenant, Subjects.pattern("subject", pattern), buffer, false);
    }

    @Override
    public long append(String tenant, String subject, byte[] payload) {
        requireStream(subject);
        checkSize(payload);
        Message m;
        synchronized (stream) {
            m = new Message(subject, payload, Optional.empty(), ++lastSeq);
            stream.addLast(new Stored(m.seq(), tenant, m));
            if (stream.size() > streamCapacity) stream.removeFirst();
            // Delivered under the stream's monitor, so a replay that starts now sees each message exactly once.
            deliver(tenant, m, true);
        }
        return m.seq();
    }

    @Override
    public Subscription replay(String tenant, String pattern, long afterSeq, int buffer) {
        Subjects.pattern("subject", pattern);
        synchronized (stream) {
            Mailbox box = (Mailbox) register(tenant, pattern, buffer, true);
            if (afterSeq >= 0)
                for (Stored s : stream)
                    if (s.seq() > afterSeq && s.tenant().equals(tenant) && Subjects.matches(pattern, s.message().subject()))
                        box.offer(s.message());
            return box;
        }
    }

    @Override
    public String description() {
        return "in-process bus (durable stream: last " + streamCapacity + " events in memory)";
    }

    @Override
    public void close() {
        for (List<Sub> list : subs.values()) for (Sub s : list) s.box().close();
        subs.clear();
    }

    private Subscription register(String tenant, String pattern, int buffer, boolean streamOnly) {
        List<Sub> list = subs.computeIfAbsent(tenant, t -> new CopyOnWriteArrayList<>());
        Sub[] self = new Sub[1];
        Mailbox box = new Mailbox(buffer, () -> list.remove(self[0]));
        self[0] = new Sub(pattern, Subjects.inbox(pattern), box, streamOnly);
        list.add(self[0]);
        return box;
    }

    /**
     * Plain subscriptions see plain and stream messages, the latter without their sequence (as core NATS delivers
     * a JetStream subject); stream readers see only the stream, with sequences.
     */
    private void deliver(String tenant, Message m, boolean fromStream) {
        List<Sub> list = subs.get(tenant);
        if (list == null) return;
        Message plain = m.seq() == 0 ? m : new Message(m.subject(), m.payload(), m.replyTo(), 0);
        for (Sub s : list)
            if ((fromStream || !s.stream()) && s.matches(m.subject())) s.box().offer(s.stream() ? m : plain);
    }

    /** The stream's subjects take appends only: on NATS a plain publish there would be stored as well. */
    static void requirePlain(String subject) {
        Subjects.literal("subject", subject);
        if (subject.startsWith(Subjects.EVENTS))
            throw AegisException.invalid("subject", "\"" + subject + "\" is in the durable stream's space ("
                    + Subjects.EVENTS + "*); append to it instead");
    }

    static void requireStream(String subject) {
        Subjects.literal("subject", subject);
        if (!subject.startsWith(Subjects.EVENTS))
            throw AegisException.invalid("subject", "\"" + subject + "\" is not a stream subject; the durable stream holds "
                    + Subjects.EVENTS + "* subjects only");
    }

    static void checkSize(byte[] payload) {
        if (payload.length > MAX_PAYLOAD)
            throw AegisException.invalid("data", payload.length + " bytes is more than the " + MAX_PAYLOAD + " a message may carry");
    }
}
