package dev.aegis.core;

/**
 * A place where agent sandboxes run: bubblewrap, docker, firecracker.
 * Implementations must be safe to call from many threads, and must leave nothing behind
 * (processes, cgroups, mounts, containers, temp folders) once {@link #terminate} returned,
 * nor after {@link #reclaim()} following a crash of the orchestrator.
 */
public interface AgentRuntime {
    /** The manifest's {@code runtime} value this adapter serves, e.g. {@code bubblewrap}. */
    String name();

    /** Whether this machine can run this runtime now (binary installed, socket answers, /dev/kvm present). */
    boolean isApplicable();

    /** One line saying why the runtime is or is not applicable, for {@code aegis doctor} style output. */
    String description();

    /**
     * Boots a sandbox for {@code spec} and starts its agent process, which waits for its task
     * ({@link InstanceState#WARM}). Throws {@link RuntimeFailure} if the sandbox cannot be built.
     */
    InstanceId spawn(SandboxSpec spec);

    /**
     * Hands the instance its one task ({@link InstanceState#HOT}): writes {@code /run/aegis/task.json}, feeds the
     * task on stdin, streams stderr lines to {@code logs}, and blocks until the process ended or the manifest's
     * timeout ran out. An instance runs at most one task.
     */
    Outcome execute(InstanceId id, String taskJson, LogSink logs);

    /** Kills the instance's whole process tree and releases everything it held. Idempotent. */
    void terminate(InstanceId id);

    /** Where the instance is in its lifecycle; {@link InstanceState#TERMINATED} for unknown ids. */
    InstanceState status(InstanceId id);

    /**
     * Removes whatever an earlier, crashed orchestrator left behind for this data folder. Called once at start.
     *
     * @return how many leftover instances were cleaned up
     */
    int reclaim();
}
