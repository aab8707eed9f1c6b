package dev.aegis.runtime.bubblewrap;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/** Whether this machine can run bubblewrap sandboxes, and one line saying why; computed once and cached. */
record HostProbe(Optional<Path> bwrap, String description) {

    boolean applicable() {
        return bwrap.isPresent();
    }

    static HostProbe run(Optional<Cgroup> cgroup, boolean seccomp) {
        Optional<Path> bwrap = onPath("bwrap");
        if (bwrap.isEmpty()) return new HostProbe(Optional.empty(), "bwrap not found on PATH: apt-get install bubblewrap");
        Path b = bwrap.get();
        Result version = exec(List.of(b.toString(), "--version"));
        String name = version.code == 0 ? version.output.strip() : "bwrap";
        // The smallest sandbox that needs what ours need: a user namespace, plus pid and net namespaces.
        Result userns = exec(List.of(b.toString(), "--unshare-user", "--unshare-pid", "--unshare-net",
                "--ro-bind", "/", "/", "--", "/bin/true"));
        if (userns.code != 0)
            return new HostProbe(Optional.empty(), name + " at " + b + " cannot create a user namespace (" + userns.output.strip()
                    + "): enable unprivileged user namespaces (sysctl user.max_user_namespaces=15000)");
        if (cgroup.isEmpty())
            return new HostProbe(Optional.empty(), name + " at " + b + ", but no cgroup memory, pids and cpu controllers at"
                    + " /sys/fs/cgroup: mount cgroup v2 or the v1 controllers");
        try {
            cgroup.get().prepare();
        } catch (RuntimeException e) {
            return new HostProbe(Optional.empty(), name + " at " + b + ", " + cgroup.get().version() + ", but " + e.getMessage());
        }
        return new HostProbe(bwrap, name + " at " + b + ", " + cgroup.get().version() + ", seccomp " + (seccomp ? "on" : "off (not x86_64)"));
    }

    private record Result(int code, String output) {}

    private static Result exec(List<String> command) {
        try {
            Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
            p.getOutputStream().close();
            String out = new String(p.getInputStream().readNBytes(4096), StandardCharsets.UTF_8);
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return new Result(-1, "timed out");
            }
            return new Result(p.exitValue(), out);
        } catch (IOException e) {
            return new Result(-1, e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Result(-1, "interrupted");
        }
    }

    private static Optional<Path> onPath(String program) {
        String path = Optional.ofNullable(System.getenv("PATH")).orElse("/usr/bin:/bin");
        for (String dir : path.split(File.pathSeparator)) {
            if (dir.isEmpty()) continue;
            Path p = Path.of(dir, program);
            if (Files.isExecutable(p) && Files.isRegularFile(p)) return Optional.of(p);
        }
        return Optional.empty();
    }
}
