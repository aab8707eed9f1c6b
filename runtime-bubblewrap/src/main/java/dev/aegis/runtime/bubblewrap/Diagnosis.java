package dev.aegis.runtime.bubblewrap;

/** Turns a failed sandbox start (bwrap's or the cgroup wrapper's stderr) into a message that says how to fix it. */
final class Diagnosis {
    private Diagnosis() {}

    static String of(int exitCode, String stderr) {
        String why = stderr.isEmpty() ? "no message" : stderr.lines().reduce((a, b) -> b).orElse(stderr);
        String hint;
        if (stderr.contains("cgroup.procs")) hint = "the orchestrator cannot move the sandbox into its cgroup: run it as root or give it a delegated cgroup";
        else if (stderr.contains("No permission to create new namespace") || stderr.contains("setting up uid map")
                || stderr.contains("Creating new namespace failed"))
            hint = "user namespaces are disabled: enable them (sysctl user.max_user_namespaces=15000, kernel.unprivileged_userns_clone=1, or the AppArmor bwrap profile)";
        else if (stderr.contains("Can't find source path") || stderr.contains("No such file or directory"))
            hint = "a host path the sandbox binds does not exist: check agentDir, agentLib, agentSocket and the granted mounts";
        else if (stderr.contains("not found") && stderr.contains("bwrap")) hint = "install bubblewrap: apt-get install bubblewrap";
        else if (stderr.contains("seccomp")) hint = "the kernel refused the seccomp filter: check CONFIG_SECCOMP_FILTER";
        else hint = "run the command with the same arguments by hand to see the full error";
        return "bubblewrap could not start the sandbox (exit " + exitCode + "): " + why + "; " + hint;
    }
}
