package dev.aegis.core;

import java.io.InputStream;
import java.io.OutputStream;

/**
 * An optional ability of an {@link AgentRuntime}: instead of one task in and one result out, hand the caller the
 * sandboxed process's stdin and stdout for a long session. AEGIS uses it for MCP stdio tool servers, which speak
 * JSON-RPC on those two pipes for as long as they live; the sandbox (mounts, egress, cgroup limits, seccomp) is the
 * same as for an agent. The session ends with {@link AgentRuntime#terminate}; no task timeout applies, the caller
 * bounds each request itself.
 */
public interface StdioRuntime {
    /**
     * Starts a {@link InstanceState#WARM} instance's process on its stdin ({@link InstanceState#HOT}); stderr lines go
     * to {@code stderr}. Nothing is read from stdout by the runtime, so no result cap applies: the caller must bound
     * what it reads.
     *
     * @throws RuntimeFailure when the instance does not exist or already ran
     */
    Stdio attach(InstanceId id, LogSink stderr);

    /** The process's two pipes: read its stdout, write its stdin. Closing stdin tells a stdio server to exit. */
    record Stdio(InputStream stdout, OutputStream stdin) {}
}
