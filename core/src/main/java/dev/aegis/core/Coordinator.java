package dev.aegis.core;

/**
 * The swarm coordinator of one node: the agent-facing coordination calls over the {@link Locks} and {@link Bus}
 * ports, tied to the lifecycle of tasks (whatever a task holds or listens to ends with it).
 */
public final class Coordinator {
    /** The operator's bounds on coordination. */
    public record Limits(AgentLocks.Limits locks, AgentBus.Limits bus) {
        public static final Limits DEFAULT = new Limits(AgentLocks.Limits.DEFAULT, AgentBus.Limits.DEFAULT);
    }

    private final AgentLocks locks;
    private final AgentBus bus;

    public Coordinator(Orchestrator orchestrator, Locks locks, Bus bus, Limits limits) {
        this.locks = new AgentLocks(locks, orchestrator.audit, limits.locks());
        this.bus = new AgentBus(bus, orchestrator.audit, limits.bus());
        orchestrator.events().observe(new TaskEvents.Observer() {
            @Override
            public void ended(Task task) {
                Coordinator.this.locks.ended(task);
                Coordinator.this.bus.ended(task);
            }

            @Override
            public void booted(String runtime, java.time.Duration took) {}
        });
    }

    public AgentLocks locks() {
        return locks;
    }

    public AgentBus bus() {
        return bus;
    }
}
