package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.AgentRuntime;
import dev.aegis.core.InstanceId;
import dev.aegis.core.RuntimeConformance;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The shared runtime contract, on bubblewrap. */
class BubblewrapConformanceTest extends RuntimeConformance {
    @Override
    protected AgentRuntime create(Path stateDir) {
        return new BubblewrapRuntime(stateDir);
    }

    @Override
    protected String runtimeName() {
        return "bubblewrap";
    }

    /** Processes naming the instance, cgroups named after it under any aegis-* parent, its folder in any state dir. */
    @Override
    protected List<String> leftovers(InstanceId id) {
        List<String> found = new ArrayList<>();
        ProcessHandle.allProcesses().forEach(p -> p.info().commandLine()
                .filter(cmd -> cmd.contains(id.value()) && cmd.contains("bwrap")).ifPresent(cmd -> found.add("process " + p.pid())));
        try (Stream<Path> controllers = Files.list(Path.of("/sys/fs/cgroup"));
             Stream<Path> states = Files.list(root)) {
            for (Path c : controllers.toList()) {
                if (!Files.isDirectory(c)) continue;
                try (Stream<Path> parents = Files.list(c)) {
                    parents.filter(p -> p.getFileName().toString().startsWith("aegis-"))
                            .map(p -> p.resolve(id.value())).filter(Files::exists).forEach(p -> found.add("cgroup " + p));
                }
            }
            states.map(s -> s.resolve(id.value())).filter(Files::exists).forEach(p -> found.add("folder " + p));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }
}
