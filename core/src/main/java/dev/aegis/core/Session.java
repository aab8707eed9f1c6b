package dev.aegis.core;

/**
 * What the agent API knows about the caller behind an {@code AEGIS_TOKEN}: the one instance, task and agent
 * it was issued to. Calls are checked against {@link #policy()} and logged to {@link #logs()}.
 */
public record Session(String tenant, String taskId, InstanceId instance, Agent agent, Policy policy, LogSink logs) {
    /** The same session for instance {@code id}. */
    public Session on(InstanceId id) {
        return new Session(tenant, taskId, id, agent, policy, logs);
    }
}
