package dev.aegis.cli;

import dev.aegis.core.AgentRuntime;
import dev.aegis.runtime.bubblewrap.BubblewrapRuntime;
import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine.Command;

@Command(name = "doctor", mixinStandardHelpOptions = true,
        description = {"Says which sandbox runtimes this machine can run, and how to fix the others.", "",
                "Example:", "  aegis doctor"})
final class DoctorCommand implements java.util.concurrent.Callable<Integer> {
    @picocli.CommandLine.Option(names = "--data", description = "data folder (default $AEGIS_DATA, else ~/.aegis)")
    Path data;

    @Override
    public Integer call() {
        // The data folder's own state dir: probing creates the runtime's cgroup parent, which its next start reuses.
        List<AgentRuntime> runtimes = List.of(new BubblewrapRuntime(DataDir.resolve(data).resolve("run/bubblewrap")));
        int usable = 0;
        for (AgentRuntime r : runtimes) {
            System.out.printf("%-12s %-4s %s%n", r.name(), r.isApplicable() ? "ok" : "no", r.description());
            if (r.isApplicable()) usable++;
        }
        return usable > 0 ? 0 : 1;
    }
}
