package dev.aegis.core;

/**
 * The swarm coordinator of one node: the agent-facing coordination calls over the {@link Locks} port, tied to
 * the lifecycle of tasks (whatever a task holds ends with it).
 */
public final class Coordinator {
    private final AgentLocks locks;

    public Coordinator(Orchestrator orchestrator, Locks locks, AgentLocks.Limits lockLimits) {
        this.locks = new AgentLocks(locks, orchestrator.audit, lockLimits);
        orchestrator.events().observe(new TaskEvents.Observer() {
            @Override
            public void ended(Task task) {
                Coordinator.this.locks.ended(task);
            }

            @Override
            public void booted(String runtime, java.time.Duration took) {}
        });
    }

    public AgentLocks locks() {
        return locks;
    }
}
