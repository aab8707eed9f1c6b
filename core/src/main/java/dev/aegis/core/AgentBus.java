package dev.aegis.core;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The bus calls of the agent API. Subjects are relative to the caller's tenant (the {@link Bus} scopes them);
 * publishing and subscribing need {@code permissions.bus} grants; {@code aegis.} is AEGIS's to publish on, and
 * replies go to the {@code _inbox.} subject a request carried, which needs no grant. Every call is audited;
 * a task's subscriptions close when it ends.
 */
public final class AgentBus {
    /**
     * @param maxSubscriptions per task
     * @param maxBuffer        the largest buffer a subscription may ask for, in messages
     * @param maxWait          the longest a {@code next} or a {@code request} may wait
     */
    public record Limits(int maxSubscriptions, int maxBuffer, Duration maxWait) {
        public static final Limits DEFAULT = new Limits(16, 4096, Duration.ofMinutes(5));
    }

    private static final SecureRandom RANDOM = new SecureRandom();

    private final Bus bus;
    private final AuditLog audit;
    private final Limits limits;
    private final Map<String, Map<String, Bus.Subscription>> byTask = new ConcurrentHashMap<>();

    public AgentBus(Bus bus, AuditLog audit, Limits limits) {
        this.bus = bus;
        this.audit = audit;
        this.limits = limits;
    }

    public void publish(Session s, String subject, byte[] data) {
        AgentLocks.holder(s);
        Subjects.literal("subject", subject);
        boolean reply = subject.startsWith(Subjects.INBOX);
        if (reply && subject.split("\\.").length != 2)
            throw AegisException.invalid("subject", "\"" + subject + "\" is not a reply subject (_inbox.<id>, as a request carries)");
        if (!reply) allowed(s, "publish", subject, publishable(s, subject));
        audit.append(event(s, "bus.publish", subject, Map.of("bytes", Integer.toString(data.length))));
        bus.publish(s.tenant(), subject, data, Optional.empty());
    }

    /** Sends {@code data} and waits up to {@code timeout} for the first reply. */
    public Bus.Message request(Session s, String subject, byte[] data, Duration timeout) {
        AgentLocks.holder(s);
        Subjects.literal("subject", subject);
        allowed(s, "publish", subject, publishable(s, subject));
        within("timeout_ms", timeout);
        audit.append(event(s, "bus.request", subject, Map.of("bytes", Integer.toString(data.length),
                "timeout_ms", Long.toString(timeout.toMillis()))));
        return bus.request(s.tenant(), subject, data, timeout);
    }

    /** Returns the subscription's id, for {@link #next} and {@link #unsubscribe}. */
    public String subscribe(Session s, String pattern, int buffer) {
        AgentLocks.holder(s);
        Subjects.pattern("subject", pattern);
        if (pattern.equals("_inbox") || pattern.startsWith(Subjects.INBOX))
            throw AegisException.invalid("subject", "\"" + pattern + "\" is a reply subject: requests receive their replies "
                    + "themselves");
        if (buffer < 1 || buffer > limits.maxBuffer())
            throw AegisException.invalid("buffer", buffer + " is outside 1.." + limits.maxBuffer());
        allowed(s, "subscribe", pattern, s.policy().subscribe(pattern));
        Map<String, Bus.Subscription> mine = byTask.computeIfAbsent(s.taskId(), t -> new ConcurrentHashMap<>());
        if (mine.size() >= limits.maxSubscriptions())
            throw AegisException.conflict("a task may hold at most " + limits.maxSubscriptions() + " subscriptions; "
                    + "unsubscribe one first");
        byte[] raw = new byte[8];
        RANDOM.nextBytes(raw);
        String id = "sub-" + HexFormat.of().formatHex(raw);
        audit.append(event(s, "bus.subscribe", pattern, Map.of("subscription", id, "buffer", Integer.toString(buffer))));
        mine.put(id, bus.subscribe(s.tenant(), pattern, buffer));
        return id;
    }

    /** Up to {@code max} deliveries of the caller's subscription {@code id}, waiting up to {@code timeout} for the first. */
    public List<Bus.Delivery> next(Session s, String id, int max, Duration timeout) {
        within("timeout_ms", timeout);
        try {
            return own(s, id).next(max, timeout);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return List.of();
        }
    }

    public void unsubscribe(Session s, String id) {
        own(s, id).close();
        byTask.getOrDefault(s.taskId(), Map.of()).remove(id);
    }

    /** Closes the subscriptions of a task that reached a final state. */
    void ended(Task t) {
        Map<String, Bus.Subscription> gone = byTask.remove(t.id());
        if (gone != null) gone.values().forEach(Bus.Subscription::close);
    }

    private Bus.Subscription own(Session s, String id) {
        Bus.Subscription sub = byTask.getOrDefault(s.taskId(), Map.of()).get(id);
        if (sub == null) throw AegisException.notFound("subscription \"" + id + "\" is not one of this task's");
        return sub;
    }

    private static Decision publishable(Session s, String subject) {
        if (subject.startsWith(Subjects.EVENTS) || subject.equals("aegis"))
            return Decision.deny("publish on \"" + subject + "\" denied: aegis.* subjects carry AEGIS's task events");
        return s.policy().publish(subject);
    }

    private void allowed(Session s, String verb, String subject, Decision d) {
        if (d instanceof Decision.Deny deny) {
            audit.append(AuditEvent.decided(s.tenant(), Orchestrator.actor(), "policy.bus", "subject:" + subject, d)
                    .withAgent(s.agent().name()).withTask(s.taskId()).withDetails(Map.of("verb", verb)));
            throw AegisException.denied(deny.reason());
        }
    }

    private void within(String field, Duration d) {
        if (d.isNegative() || d.compareTo(limits.maxWait()) > 0)
            throw AegisException.invalid(field, d.toMillis() + " is outside 0.." + limits.maxWait().toMillis());
    }

    private static AuditEvent event(Session s, String action, String subject, Map<String, String> details) {
        return AuditEvent.of(s.tenant(), Orchestrator.actor(), action, "subject:" + subject, details)
                .withAgent(s.agent().name()).withTask(s.taskId());
    }
}
