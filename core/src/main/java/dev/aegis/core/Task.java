package dev.aegis.core;

import java.time.Instant;
import java.util.Optional;

/**
 * One run of an agent on one input, in one fresh sandbox.
 *
 * @param input  the task JSON as submitted
 * @param result the agent's result JSON, when it succeeded
 * @param usage  what its instance used, when the runtime meters it
 * @param parent the task that delegated this one, when an agent did ({@code tasks.delegate})
 */
public record Task(
        String id,
        String tenant,
        String agent,
        String input,
        TaskState state,
        Optional<String> result,
        Optional<TaskError> error,
        Optional<Integer> exitCode,
        Instant createdAt,
        Optional<Instant> startedAt,
        Optional<Instant> finishedAt,
        Optional<Usage> usage,
        Optional<String> parent) {

    public static Task queued(String id, String tenant, String agent, String input, Instant now) {
        return new Task(id, tenant, agent, input, TaskState.QUEUED, Optional.empty(), Optional.empty(),
                Optional.empty(), now, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
    }

    public Task withParent(Optional<String> parentId) {
        return new Task(id, tenant, agent, input, state, result, error, exitCode, createdAt, startedAt, finishedAt, usage,
                parentId);
    }

    public Task running(Instant now) {
        return new Task(id, tenant, agent, input, TaskState.RUNNING, result, error, exitCode, createdAt,
                Optional.of(now), finishedAt, usage, parent);
    }

    public Task succeeded(String resultJson, int code, Instant now) {
        return new Task(id, tenant, agent, input, TaskState.SUCCEEDED, Optional.of(resultJson), Optional.empty(),
                Optional.of(code), createdAt, startedAt, Optional.of(now), usage, parent);
    }

    public Task failed(TaskState finalState, TaskError why, Optional<Integer> code, Instant now) {
        return new Task(id, tenant, agent, input, finalState, Optional.empty(), Optional.of(why), code, createdAt,
                startedAt, Optional.of(now), usage, parent);
    }

    public Task withUsage(Usage used) {
        return new Task(id, tenant, agent, input, state, result, error, exitCode, createdAt, startedAt, finishedAt,
                Optional.of(used), parent);
    }

    /** Why a task did not succeed. {@code code} is one stable word: timeout, exit_code, bad_output, ... */
    public record TaskError(String code, String message) {}
}
