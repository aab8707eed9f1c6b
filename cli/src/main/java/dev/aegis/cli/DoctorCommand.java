package dev.aegis.cli;

import dev.aegis.core.AgentRuntime;
import dev.aegis.runtime.bubblewrap.BubblewrapRuntime;
import dev.aegis.runtime.docker.DockerRuntime;
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
    public Integer call() throws java.io.IOException {
        // The data folder's own state dir: probing creates the runtime's cgroup parent, which its next start reuses.
        Path dir = DataDir.resolve(data);
        DockerRuntime docker = new DockerRuntime(dir.resolve("run/docker"));
        List<AgentRuntime> runtimes = List.of(new BubblewrapRuntime(dir.resolve("run/bubblewrap")), docker);
        int usable = 0;
        for (AgentRuntime r : runtimes) {
            System.out.printf("%-12s %-4s %s%n", r.name(), r.isApplicable() ? "ok" : "no", r.description());
            if (r.isApplicable()) usable++;
        }
        docker.close();
        return usable > 0 ? 0 : 1;
    }
}
