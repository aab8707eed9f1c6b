package dev.aegis.runtime.bubblewrap;

import static org.assertj.core.api.Assertions.assertThat;

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

    /** Metering: a CPU-burning agent shows CPU time and memory after execute, until terminate. */
    @org.junit.jupiter.api.Test
    void usageIsMeasuredFromTheCgroup() {
        BubblewrapRuntime r = (BubblewrapRuntime) runtime;
        InstanceId id = r.spawn(spec(SMALL, java.util.Map.of(), "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo {}"));
        try {
            assertThat(r.usage(id)).isPresent();
            r.execute(id, "{}", line -> { });
            dev.aegis.core.Usage u = r.usage(id).orElseThrow();
            assertThat(u.cpu()).isGreaterThan(java.time.Duration.ofMillis(20));
            assertThat(u.memoryPeakBytes()).isPositive();
            assertThat(u.uptime()).isGreaterThanOrEqualTo(u.cpu().dividedBy(2));
        } finally {
            r.terminate(id);
        }
        assertThat(r.usage(id)).isEmpty();
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
