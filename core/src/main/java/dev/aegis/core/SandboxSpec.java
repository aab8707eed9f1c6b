package dev.aegis.core;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Everything a runtime needs to build one sandbox. Paths are host paths.
 *
 * @param agentDir    the agent's code, mounted read-only at {@code /agent} (the working directory)
 * @param agentSocket the agent-API unix socket, mounted at {@code /run/aegis/agent.sock}
 * @param agentLib    folder holding the {@code aegis_agent} Python module, mounted read-only and put on {@code PYTHONPATH}
 * @param egressSocket present when the sandbox is granted egress: the egress proxy's unix socket, mounted at
 *                    {@code /run/aegis/egress.sock} and bridged to {@code 127.0.0.1:3128} inside the sandbox, with
 *                    {@code HTTP_PROXY}/{@code HTTPS_PROXY} pointing there; absent, nothing listens on that port
 * @param env         the only environment variables the agent sees (besides PATH, HOME and PYTHONPATH)
 * @param mounts      extra host folders granted by policy
 * @param limits      output caps the runtime enforces
 */
public record SandboxSpec(
        InstanceId id,
        Manifest manifest,
        Path agentDir,
        Path agentSocket,
        Path agentLib,
        Optional<Path> egressSocket,
        Map<String, String> env,
        List<Mount> mounts,
        OutputLimits limits) {

    public SandboxSpec {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(manifest, "manifest");
        Objects.requireNonNull(agentDir, "agentDir");
        Objects.requireNonNull(agentSocket, "agentSocket");
        Objects.requireNonNull(agentLib, "agentLib");
        Objects.requireNonNull(egressSocket, "egressSocket");
        env = Map.copyOf(env);
        mounts = List.copyOf(mounts);
        Objects.requireNonNull(limits, "limits");
    }

    /** A host folder bound into the sandbox. */
    public record Mount(Path host, String sandboxPath, boolean writable) {}

    /** Caps on what an agent may print; beyond them the task fails or the logs are cut, never the orchestrator. */
    public record OutputLimits(long maxResultBytes, long maxLogBytes) {
        public static final OutputLimits DEFAULT = new OutputLimits(1L << 20, 4L << 20);
    }
}
