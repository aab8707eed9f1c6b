package dev.aegis.runtime.bubblewrap;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class CgroupTest {
    @Test
    void detectsTheVersionFromTheMountedTree(@TempDir Path dir) throws Exception {
        Path v2 = Files.createDirectories(dir.resolve("v2"));
        Files.writeString(v2.resolve("cgroup.controllers"), "cpu memory pids\n");
        Path v1 = dir.resolve("v1");
        for (String c : new String[]{"memory", "pids", "cpu"}) Files.createDirectories(v1.resolve(c));
        assertThat(Cgroup.detect(v2, "aegis-x")).get().extracting(Cgroup::version).isEqualTo("cgroup v2");
        assertThat(Cgroup.detect(v1, "aegis-x")).get().extracting(Cgroup::version).isEqualTo("cgroup v1");
        assertThat(Cgroup.detect(Files.createDirectories(dir.resolve("none")), "aegis-x")).isEmpty();
    }

    @Test
    void theParentIsScopedToTheStateDir() {
        assertThat(BubblewrapRuntime.cgroupParent(Path.of("/a/run/bubblewrap"))).matches("aegis-[0-9a-f]{8}")
                .isNotEqualTo(BubblewrapRuntime.cgroupParent(Path.of("/b/run/bubblewrap")));
    }

    @Test
    void readsCounters() {
        assertThat(Cgroup.field("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n", "oom_kill")).isEqualTo(3);
        assertThat(Cgroup.field("low 0\nhigh 0\nmax 5\noom 2\noom_kill 1\noom_group_kill 1\n", "oom_kill")).isEqualTo(1);
        assertThat(Cgroup.field("", "oom_kill")).isZero();
    }
}
