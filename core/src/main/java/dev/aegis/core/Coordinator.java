package dev.aegis.core;

import java.util.Map;

/**
 * The swarm coordinator of one node: the agent-facing coordination calls over the {@link Locks} and {@link Bus}
 * ports and child tasks, tied to the lifecycle of tasks (whatever a task holds or listens to ends with it), and
 * every task's lifecycle published on the bus's durable stream.
 */
public final class Coordinator implements AutoCloseable {
    /** The operator's bounds on coordination. */
    public record Limits(AgentLocks.Limits locks, AgentBus.Limits bus, Delegation.Limits tasks) {
        public static final Limits DEFAULT = new Limits(AgentLocks.Limits.DEFAULT, AgentBus.Limits.DEFAULT, Delegation.Limits.DEFAULT);
    }

    private final AgentLocks locks;
    private final AgentBus bus;
    private final Delegation tasks;
    private final Bus port;
    private final AuditLog audit;
    private final LifecycleEvents lifecycle;

    public Coordinator(Orchestrator orchestrator, Locks locks, Bus bus, Limits limits) {
        this.locks = new AgentLocks(locks, orchestrator.audit, limits.locks());
        this.bus = new AgentBus(bus, orchestrator.audit, limits.bus());
        this.tasks = new Delegation(orchestrator, limits.tasks());
        this.port = bus;
        this.audit = orchestrator.audit;
        this.lifecycle = new LifecycleEvents(bus);
        orchestrator.events().observe(lifecycle);
        orchestrator.events().observe(new TaskEvents.Observer() {
            @Override
            public void ended(Task task) {
                Coordinator.this.locks.ended(task);
                Coordinator.this.bus.ended(task);
                Coordinator.this.tasks.ended(task);
            }

            @Override
            public void booted(String runtime, java.time.Duration took) {}
        });
    }

    /** Stops publishing lifecycle events; call before closing the bus. */
    @Override
    public void close() {
        lifecycle.close();
    }

    public AgentLocks locks() {
        return locks;
    }

    public AgentBus bus() {
        return bus;
    }

    public Delegation tasks() {
        return tasks;
    }

    /**
     * Records a coordination call refused before it reached a decision (a malformed body, a bad value), so that an
     * agent probing the API leaves a trace as a denied one does.
     */
    public void refused(Session s, String call, AegisException e) {
        audit.append(AuditEvent.of(s.tenant(), Orchestrator.actor(), "agent.refused", "call:" + call,
                        Map.of("code", e.code(), "message", e.getMessage()))
                .withAgent(s.agent().name()).withTask(s.taskId().isEmpty() ? "-" : s.taskId()));
    }

    /**
     * A client's view of its tenant's task events: the durable stream's messages matching {@code pattern} (under
     * {@code aegis.}) after {@code afterSeq} ({@code < 0}: only new ones), then live ones.
     */
    public Bus.Subscription events(String tenant, String pattern, long afterSeq, int buffer) {
        Subjects.pattern("subject", pattern);
        if (!pattern.startsWith(Subjects.EVENTS))
            throw AegisException.invalid("subject", "\"" + pattern + "\" is not an event subject; events are under "
                    + Subjects.EVENTS + "tasks.<agent>.<task>.<state>, e.g. aegis.tasks.>");
        return port.replay(tenant, pattern, afterSeq, buffer);
    }
}
