package dev.aegis.runtime.docker;

import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.Capability;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.LogConfig;
import com.github.dockerjava.api.model.Mount;
import com.github.dockerjava.api.model.MountType;
import com.github.dockerjava.api.model.Ulimit;
import dev.aegis.core.Manifest.Resources;
import dev.aegis.core.RuntimeFailure;
import dev.aegis.core.SandboxSpec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Turns a {@link SandboxSpec} into the container to create: one ordered checklist, the same promises as the
 * bubblewrap sandbox. Docker adds its own defaults on top (seccomp profile, masked /proc paths, private pid, ipc
 * and uts namespaces); nothing below weakens them.
 */
final class ContainerSpec {
    static final String READY = "aegis-ready";
    static final long TMP_BYTES = 16L << 20;
    static final String USER = InstanceFolder.AGENT_UID + ":" + InstanceFolder.AGENT_UID;
    /** Where the egress relay listens inside the container when the spec has an egress socket. */
    static final String EGRESS_PROXY = "http://127.0.0.1:3128";
    private static final List<String> RESERVED = List.of("/usr", "/etc", "/proc", "/dev", "/sys", "/run/aegis", "/agent", "/opt/aegis");
    private static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*");

    private ContainerSpec() {}

    /**
     * @param imageEnv     names the image itself sets (its {@code ENV}); Docker always passes them on, so the shim
     *                     unsets every one the spec does not set: the agent's environment is exactly {@link #environment}
     * @param init         the host's aegis-init, mounted read-only as the container's command prefix (the shim)
     * @param cgroupParent where the container's cgroup goes, when we meter it (see {@link ContainerCgroups})
     */
    static CreateContainerCmd apply(CreateContainerCmd c, SandboxSpec spec, InstanceFolder folder, String name,
                                    Map<String, String> labels, Collection<String> imageEnv, Path init,
                                    Optional<String> cgroupParent) {
        Resources r = spec.manifest().resources();
        checkSources(spec);
        Map<String, String> env = environment(spec);
        // 1. Identity: a name and labels that tie the container to this orchestrator (reclaim finds it by them).
        c.withName(name).withLabels(labels).withHostName("aegis");
        // 2. No network device but loopback.
        HostConfig h = HostConfig.newHostConfig().withNetworkMode("none");
        // 3. Unprivileged: uid/gid 1000, no capabilities, no setuid gains; Docker's default seccomp profile stays on.
        c.withUser(USER);
        h.withCapDrop(Capability.ALL).withSecurityOpts(List.of("no-new-privileges")).withPrivileged(false);
        // 4. Limits: memory without swap, cpu, pids, and the largest file the agent may write (result.json lives on
        //    the host disk; 1 MiB slack so /workspace's tmpfs reports ENOSPC first).
        long fsize = Math.max(r.diskBytes(), spec.limits().maxResultBytes()) + (1 << 20);
        h.withMemory(r.memoryBytes()).withMemorySwap(r.memoryBytes()).withNanoCPUs(Math.round(r.cpu() * 1e9))
                .withPidsLimit((long) r.pids()).withUlimits(List.of(new Ulimit("fsize", fsize, fsize)));
        cgroupParent.ifPresent(h::withCgroupParent);
        // 5. Read-only root; size-capped scratch in memory (tmpfs pages count against the memory limit).
        h.withReadonlyRootfs(true).withTmpFs(Map.of(
                "/tmp", "rw,exec,nosuid,nodev,size=" + TMP_BYTES + ",mode=1777",
                "/workspace", "rw,exec,nosuid,nodev,size=" + r.diskBytes() + ",uid=1000,gid=1000,mode=0700"));
        // 6. Binds as mounts, not "binds": Docker creates a missing bind source as an empty root-owned folder,
        //    a mount fails instead. The agent's code, its library and the shim read-only; /run/aegis gets exactly
        //    three files, four with egress.
        List<Mount> mounts = new ArrayList<>();
        mounts.add(bind(spec.agentDir(), "/agent", true));
        mounts.add(bind(spec.agentLib(), "/opt/aegis/python", true));
        mounts.add(bind(init, InitBinary.IN_CONTAINER, true));
        mounts.add(bind(folder.file("task.json"), "/run/aegis/task.json", true));
        mounts.add(bind(folder.file("result.json"), "/run/aegis/result.json", false));
        mounts.add(bind(spec.agentSocket(), "/run/aegis/agent.sock", false));
        // 6b. Egress, when granted: the proxy's socket, which the shim bridges to 127.0.0.1:3128 (no other network).
        spec.egressSocket().ifPresent(e -> mounts.add(bind(e, "/run/aegis/egress.sock", false)));
        // 7. Host folders granted by policy.
        for (SandboxSpec.Mount m : spec.mounts()) mounts.add(bind(m.host(), m.sandboxPath(), !m.writable()));
        h.withMounts(mounts);
        // 8. No log driver: output reaches us through the attach stream only and never piles up on the host disk.
        h.withLogConfig(new LogConfig(LogConfig.LoggingType.NONE, Map.of()));
        // 9. stdin stays open for the shim's go line; the shim (aegis-init: static, so the image needs no shell) then
        //    execs the entrypoint in /agent with task.json as its stdin (docker-java cannot half-close an attached
        //    stdin, so the task could never end with EOF there).
        c.withAttachStdin(true).withStdinOpen(true).withStdInOnce(false).withAttachStdout(true).withAttachStderr(true).withTty(false);
        c.withWorkingDir("/agent").withEnv(env.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).toList());
        c.withEntrypoint(shim(env.keySet(), imageEnv)).withCmd(spec.manifest().entrypoint());
        return c.withHostConfig(h);
    }

    /** The agent's whole environment; secrets travel in the create request, never on a command line. */
    static Map<String, String> environment(SandboxSpec spec) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("PATH", "/usr/local/bin:/usr/bin:/bin");
        env.put("HOME", "/workspace");
        env.put("PYTHONPATH", "/opt/aegis/python");
        env.put("PYTHONDONTWRITEBYTECODE", "1");
        env.put("LANG", "C.UTF-8");
        // Egress goes through the relay the shim starts; loopback stays direct (NO_PROXY).
        if (spec.egressSocket().isPresent())
            for (String name : List.of("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy")) env.put(name, EGRESS_PROXY);
        if (spec.egressSocket().isPresent()) env.put("NO_PROXY", "localhost,127.0.0.1");
        env.putAll(spec.env());
        return env;
    }

    /** Holds the agent until execute() sends a line (aegis-init exits 97 if stdin closes before any task came). */
    static List<String> shim(Collection<String> keep, Collection<String> imageEnv) {
        List<String> shim = new ArrayList<>(List.of(InitBinary.IN_CONTAINER, "shim", "--stdin", "/run/aegis/task.json"));
        // Docker always adds HOSTNAME (the shim drops PWD itself). Names come from the image and are checked before use.
        java.util.stream.Stream.concat(java.util.stream.Stream.of("HOSTNAME"), imageEnv.stream())
                .filter(n -> ENV_NAME.matcher(n).matches() && !keep.contains(n)).distinct()
                .forEach(n -> shim.addAll(List.of("--unset", n)));
        shim.add("--");
        return shim;
    }

    private static Mount bind(Path host, String target, boolean readOnly) {
        return new Mount().withType(MountType.BIND).withSource(host.toString()).withTarget(target).withReadOnly(readOnly);
    }

    private static void checkSources(SandboxSpec spec) {
        exists("agentDir", spec.agentDir());
        exists("agentLib", spec.agentLib());
        exists("agentSocket", spec.agentSocket());
        checkAgentCanConnect("agentSocket", spec.agentSocket());
        spec.egressSocket().ifPresent(e -> {
            exists("egressSocket", e);
            checkAgentCanConnect("egressSocket", e);
        });
        for (SandboxSpec.Mount m : spec.mounts()) {
            exists("mount " + m.sandboxPath(), m.host());
            String p = m.sandboxPath();
            boolean reserved = p.equals("/") || RESERVED.stream().anyMatch(x -> p.equals(x) || p.startsWith(x + "/"));
            if (!p.startsWith("/") || !Path.of(p).normalize().toString().equals(p) || reserved)
                throw new RuntimeFailure("mount: sandbox path \"" + p + "\" must be absolute, normalized and outside "
                        + RESERVED + " (e.g. /data/inbox)");
        }
    }

    /**
     * connect() on a unix socket needs write permission on its file, and the agent is uid/gid 1000 without
     * capabilities. A socket left at 0600 root would make every agent-API call fail with EACCES deep inside the
     * agent, so refuse here with the fix instead. (Callers still prove who they are with their AEGIS_TOKEN.)
     */
    static void checkAgentCanConnect(String field, Path socket) {
        try {
            int uid = (Integer) Files.getAttribute(socket, "unix:uid");
            int gid = (Integer) Files.getAttribute(socket, "unix:gid");
            int mode = (Integer) Files.getAttribute(socket, "unix:mode");
            int agent = InstanceFolder.AGENT_UID;
            int bit = uid == agent ? 0200 : gid == agent ? 0020 : 0002;
            if ((mode & bit) != 0) return;
            throw new RuntimeFailure(field + ": " + socket + " is mode " + String.format("%04o", mode & 07777) + " owned by "
                    + uid + ":" + gid + ", so the container user " + USER + " cannot connect to it; "
                    + "chown it to " + agent + " (or group " + agent + " with mode 0660), or chmod it 0666");
        } catch (java.io.IOException e) {
            throw new RuntimeFailure(field + ": cannot read the mode of " + socket + ": " + e, e);
        }
    }

    private static void exists(String what, Path p) {
        if (!Files.exists(p)) throw new RuntimeFailure(what + ": host path " + p + " does not exist; create it or fix the spec");
    }
}
