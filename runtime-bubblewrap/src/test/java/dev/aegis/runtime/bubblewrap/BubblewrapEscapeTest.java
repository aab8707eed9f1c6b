package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.AgentRuntime;
import dev.aegis.core.InstanceId;
import dev.aegis.core.RuntimeEscapes;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** The shared escape suite, on bubblewrap. */
class BubblewrapEscapeTest extends RuntimeEscapes {
    @Override
    protected AgentRuntime create(Path stateDir) {
        return new BubblewrapRuntime(stateDir);
    }

    @Override
    protected String runtimeName() {
        return "bubblewrap";
    }

    /** Processes naming the instance (bwrap's argv does), its cgroups in every hierarchy, its instance folder. */
    @Override
    protected List<String> leftovers(InstanceId id) {
        Path stateDir = root.resolve("state");
        List<String> found = new ArrayList<>(Fixture.processesMentioning(id.value()));
        for (String c : List.of("memory", "pids", "cpu", "freezer", ""))
            if (Files.exists(Path.of("/sys/fs/cgroup", c, BubblewrapRuntime.cgroupParent(stateDir), id.value()))) found.add("cgroup " + c);
        Path folder = BubblewrapRuntime.instanceRoot(stateDir).resolve(id.value());
        if (Files.exists(folder)) found.add("folder " + folder);
        return found;
    }
}
