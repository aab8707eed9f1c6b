package dev.aegis.core;

import java.util.List;
import java.util.Optional;

/** Tasks, their lifecycle transitions and their logs. Every write is durable when the call returns. */
public interface TaskStore {
    void create(Task task);

    /** Replaces the stored row of {@code task.id()}. */
    void update(Task task);

    Optional<Task> find(String id);

    /** Newest first. */
    List<Task> list(String tenant, int limit);

    /** The tasks {@code parentId} delegated, oldest first. */
    List<Task> children(String parentId);

    /** Tasks not in a final state, for recovery after a crash. */
    List<Task> unfinished();

    /** What one agent's tasks used in a time range: the figures billing meters ({@code egressBytes} both ways). */
    record Metered(String agent, long tasks, long failed, double cpuSeconds, double memoryMibSeconds, double wallSeconds,
                   long egressBytes) {}

    /** Per agent, the tenant's tasks that finished in {@code [from, to)}. */
    List<Metered> usage(String tenant, java.time.Instant from, java.time.Instant to);

    void addTransition(Transition transition);

    /**
     * Writes the task row (inserted when {@code insert}, else replaced), then {@code transitions} in order, then
     * {@code logs}, in one transaction: one durable write for a whole step of the flow.
     */
    void record(Task task, boolean insert, List<Transition> transitions, List<LogLine> logs);

    /** In the order they happened. */
    List<Transition> transitions(String taskId);

    /** A task with its transitions in order. */
    record Detailed(Task task, List<Transition> transitions) {}

    /** The task and its transitions; a store may read both at once (the API's hottest read). */
    default Optional<Detailed> detailed(String id) {
        return find(id).map(t -> new Detailed(t, transitions(id)));
    }

    void appendLogs(List<LogLine> lines);

    /** Lines with {@code seq > afterSeq}, in order. */
    List<LogLine> logs(String taskId, long afterSeq);
}
