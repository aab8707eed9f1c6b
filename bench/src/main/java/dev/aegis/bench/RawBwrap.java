package dev.aegis.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The baseline: a bwrap command line with the same namespaces and binds AEGIS uses for a sandbox (read-only /usr,
 * merged-usr links, minimal /etc, /proc, /dev, size-capped tmpfs /tmp and /workspace, the agent folder, /run/aegis
 * with task.json and the agent socket), run directly: no cgroups, no shim, no orchestrator.
 */
final class RawBwrap {
    private RawBwrap() {}

    static List<String> argv(Path agentDir, Path runDir, Path socket, Path lib, List<String> command) {
        List<String> a = new ArrayList<>(List.of("bwrap", "--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc",
                "--unshare-uts", "--unshare-cgroup-try", "--uid", "1000", "--gid", "1000", "--hostname", "aegis",
                "--die-with-parent", "--new-session", "--ro-bind", "/usr", "/usr"));
        for (String d : List.of("bin", "sbin", "lib", "lib64")) {
            Path p = Path.of("/", d);
            if (Files.isSymbolicLink(p)) a.addAll(List.of("--symlink", "usr/" + d, "/" + d));
        }
        // The same /etc and /run/aegis binds as an AEGIS sandbox (they cost bwrap ~0.5 ms; leaving them out flattered
        // raw). Not AEGIS's hardening: no cgroups, seccomp, --disable-userns or read-only remounts.
        for (String e : List.of("ld.so.cache", "localtime", "alternatives", "ssl/certs", "ssl/openssl.cnf"))
            a.addAll(List.of("--ro-bind-try", "/etc/" + e, "/etc/" + e));
        a.addAll(List.of("--ro-bind", file(runDir, "passwd", "aegis:x:1000:1000::/workspace:/bin/sh\n").toString(), "/etc/passwd",
                "--ro-bind", file(runDir, "group", "aegis:x:1000:\n").toString(), "/etc/group",
                "--ro-bind", file(runDir, "hosts", "127.0.0.1 localhost aegis\n").toString(), "/etc/hosts"));
        a.addAll(List.of("--proc", "/proc", "--dev", "/dev",
                "--size", "16777216", "--tmpfs", "/tmp", "--size", "67108864", "--tmpfs", "/workspace",
                "--ro-bind", agentDir.toString(), "/agent", "--ro-bind", lib.toString(), "/opt/aegis/python",
                "--size", "1048576", "--tmpfs", "/run/aegis",
                "--ro-bind", runDir.resolve("task.json").toString(), "/run/aegis/task.json",
                "--bind", file(runDir, "result.json", "").toString(), "/run/aegis/result.json",
                "--bind", socket.toString(), "/run/aegis/agent.sock",
                "--chdir", "/agent", "--clearenv", "--setenv", "PATH", "/usr/bin:/bin", "--"));
        a.addAll(command);
        return a;
    }

    private static Path file(Path dir, String name, String content) {
        try {
            Path p = dir.resolve(name);
            if (!Files.exists(p)) Files.writeString(p, content);
            return p;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Runs once; returns stdout. */
    static String run(List<String> argv, String stdin) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(argv).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try (var in = p.getOutputStream()) {
            in.write(stdin.getBytes());
        }
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) throw new IllegalStateException("raw bwrap exited " + p.exitValue() + ": " + argv);
        return out;
    }
}
