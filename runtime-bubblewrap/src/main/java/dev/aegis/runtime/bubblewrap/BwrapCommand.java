package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.Manifest.Resources;
import dev.aegis.core.RuntimeFailure;
import dev.aegis.core.SandboxSpec;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns a {@link SandboxSpec} into the command that starts its sandbox: one ordered checklist. The root is an empty
 * tmpfs made of explicit binds only and remounted read-only at the end; nothing of the host is visible unless
 * a step below binds it.
 */
final class BwrapCommand {
    /** Printed by the shim once the sandbox is built, so spawn() knows bwrap got that far. */
    static final String READY = "aegis-ready";
    static final long TMP_BYTES = 16L << 20;
    static final long RUN_BYTES = 1L << 20;
    /** Where the egress relay listens inside the sandbox when the spec has an egress socket. */
    static final String EGRESS_PROXY = "http://127.0.0.1:3128";
    private static final List<String> MERGED_USR = List.of("bin", "sbin", "lib", "lib64", "lib32", "libx32");
    /** Only what sh and python3 need. Never /etc/passwd or /etc/shadow; never all of /etc/ssl (private keys). */
    private static final List<String> HOST_ETC = List.of("ld.so.cache", "localtime", "alternatives", "ssl/certs", "ssl/openssl.cnf");
    private static final List<String> RESERVED = List.of("/usr", "/etc", "/proc", "/dev", "/run/aegis", "/agent", "/opt/aegis");
    /** Steps 1-6b, the same for every sandbox on this host: built once (reading the merged-usr links costs per spawn). */
    private static final List<String> SYSTEM = system();

    private BwrapCommand() {}

    /**
     * @param shared      aegis-init (the host-side enter wrapper, bound read-only as the in-sandbox shim), our /etc
     *                    files and the seccomp program, if any
     * @param cgroupProcs the {@code cgroup.procs} files the sandbox must join before bwrap starts
     */
    static List<String> argv(Path bwrap, SharedFiles shared, SandboxSpec spec, InstanceFolder folder, List<Path> cgroupProcs) {
        Resources r = spec.manifest().resources();
        checkSources(spec);
        List<String> a = new ArrayList<>(SYSTEM.size() + 80);
        // 0. aegis-init enter joins the cgroups first, then becomes bwrap (exec keeps the pid): everything bwrap forks
        //    is born inside the limits, with no window where the agent runs unlimited. --fsize caps each file the agent
        //    writes (result.json and rw mounts live on the host disk; 1 MiB slack so tmpfs reports ENOSPC first);
        //    fd 3 carries the seccomp program to bwrap. A static binary rather than /bin/sh: no shell startup.
        a.addAll(List.of(shared.init().toString(), "enter"));
        for (Path procs : cgroupProcs) a.addAll(List.of("--join", procs.toString()));
        a.addAll(List.of("--fsize", Long.toString(Math.max(r.diskBytes(), spec.limits().maxResultBytes()) + (1 << 20))));
        shared.seccomp().ifPresent(f -> a.addAll(List.of("--fd3", f.toString())));
        a.addAll(List.of("--", bwrap.toString()));
        // 1-6b. Namespaces, identity, lifetime, system files, /proc and /dev: see system().
        a.addAll(SYSTEM);
        // 5b. Our own passwd/group/hosts.
        a.addAll(List.of("--ro-bind", shared.passwd().toString(), "/etc/passwd", "--ro-bind", shared.group().toString(), "/etc/group",
                "--ro-bind", shared.hosts().toString(), "/etc/hosts"));
        // 7. Scratch space, size-capped (tmpfs pages also count against the memory cgroup).
        a.addAll(List.of("--size", Long.toString(TMP_BYTES), "--tmpfs", "/tmp"));
        a.addAll(List.of("--size", Long.toString(r.diskBytes()), "--tmpfs", "/workspace"));
        // 8. The agent's code, the aegis_agent library and the shim, read-only.
        a.addAll(List.of("--ro-bind", spec.agentDir().toString(), "/agent"));
        a.addAll(List.of("--ro-bind", spec.agentLib().toString(), "/opt/aegis/python"));
        a.addAll(List.of("--ro-bind", shared.init().toString(), SharedFiles.INIT_IN_SANDBOX));
        // 9. /run/aegis: an in-memory dir holding exactly the host files below. Binding files rather than the host
        //    folder means the agent cannot fill the host disk with new files there; it may only write result.json.
        a.addAll(List.of("--size", Long.toString(RUN_BYTES), "--tmpfs", "/run/aegis"));
        a.addAll(List.of("--ro-bind", folder.file("task.json").toString(), "/run/aegis/task.json"));
        a.addAll(List.of("--bind", folder.file("result.json").toString(), "/run/aegis/result.json"));
        a.addAll(List.of("--bind", spec.agentSocket().toString(), "/run/aegis/agent.sock"));
        // 9b. Egress, when granted: the proxy's socket, which the shim bridges to 127.0.0.1:3128 (no other network).
        spec.egressSocket().ifPresent(e -> a.addAll(List.of("--bind", e.toString(), "/run/aegis/egress.sock")));
        // 10. Host folders granted by policy.
        for (SandboxSpec.Mount m : spec.mounts())
            a.addAll(List.of(m.writable() ? "--bind" : "--ro-bind", m.host().toString(), m.sandboxPath()));
        // 11. Freeze the layout: the root tmpfs and /run/aegis become read-only (not recursive: /tmp, /workspace,
        //     result.json and rw mounts stay writable).
        a.addAll(List.of("--remount-ro", "/run/aegis", "--remount-ro", "/"));
        // 12. Syscall filter, loaded last by bwrap just before it execs the shim.
        if (shared.seccomp().isPresent()) a.addAll(List.of("--seccomp", "3"));
        // 13. Start in the agent folder; the shim (relay, ready line, wait for the task) then execs the entrypoint.
        a.addAll(List.of("--chdir", "/agent", "--", SharedFiles.INIT_IN_SANDBOX, "shim", "--"));
        a.addAll(spec.manifest().entrypoint());
        return a;
    }

    private static List<String> system() {
        List<String> a = new ArrayList<>();
        // 1. Namespaces: own user (no further ones inside), pid, net (loopback only), ipc, uts, cgroup.
        a.addAll(List.of("--unshare-user", "--disable-userns", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                "--unshare-uts", "--unshare-cgroup-try"));
        // 2. Identity: unprivileged uid/gid 1000 (no capabilities), fixed hostname.
        a.addAll(List.of("--uid", "1000", "--gid", "1000", "--hostname", "aegis"));
        // 3. Lifetime: die with the orchestrator; new session so the agent cannot reach a controlling terminal.
        a.addAll(List.of("--die-with-parent", "--new-session"));
        // 4. System files, read-only: /usr and the merged-usr links (or real dirs on a split-usr host).
        a.addAll(List.of("--ro-bind", "/usr", "/usr"));
        for (String d : MERGED_USR) {
            Path p = Path.of("/", d);
            if (Files.isSymbolicLink(p)) a.addAll(List.of("--symlink", readLink(p), p.toString()));
            else if (Files.isDirectory(p)) a.addAll(List.of("--ro-bind", p.toString(), p.toString()));
        }
        // 5. A minimal /etc: a few host files that exist (passwd, group and hosts are our own, step 5b).
        for (String e : HOST_ETC) a.addAll(List.of("--ro-bind-try", "/etc/" + e, "/etc/" + e));
        // 6. Kernel file systems scoped to the sandbox: its own /proc (pid ns) and a minimal /dev.
        a.addAll(List.of("--proc", "/proc", "--dev", "/dev"));
        // 6b. Kernel settings read-only. The sandbox's uid maps to the orchestrator's host uid; when that is root,
        //     the kernel's sysctl check (host uid 0, not capabilities) would let the agent write /proc/sys, e.g.
        //     kernel/core_pattern, which is a host escape. The host's /proc/sys, bound read-only, covers it.
        for (String p : List.of("/proc/sys", "/proc/sysrq-trigger", "/proc/irq", "/proc/bus"))
            a.addAll(List.of("--ro-bind-try", p, p));
        return List.copyOf(a);
    }

    /**
     * The agent's whole environment. Passed as bwrap's own environment rather than {@code --clearenv --setenv}:
     * a process's argv is world-readable in /proc, its environment is not, and spec.env() carries tokens and secrets.
     */
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

    private static void checkSources(SandboxSpec spec) {
        exists("agentDir", spec.agentDir());
        exists("agentLib", spec.agentLib());
        exists("agentSocket", spec.agentSocket());
        spec.egressSocket().ifPresent(e -> exists("egressSocket", e));
        for (SandboxSpec.Mount m : spec.mounts()) {
            exists("mount " + m.sandboxPath(), m.host());
            String p = m.sandboxPath();
            boolean reserved = p.equals("/") || RESERVED.stream().anyMatch(r -> p.equals(r) || p.startsWith(r + "/"));
            if (!p.startsWith("/") || !Path.of(p).normalize().toString().equals(p) || reserved)
                throw new RuntimeFailure("mount: sandbox path \"" + p + "\" must be absolute, normalized and outside "
                        + RESERVED + " (e.g. /data/inbox)");
        }
    }

    private static void exists(String what, Path p) {
        if (!Files.exists(p)) throw new RuntimeFailure(what + ": host path " + p + " does not exist; create it or fix the spec");
    }

    private static String readLink(Path p) {
        try {
            return Files.readSymbolicLink(p).toString();
        } catch (IOException e) {
            throw new RuntimeFailure("cannot read link " + p + ": " + e, e);
        }
    }

}
