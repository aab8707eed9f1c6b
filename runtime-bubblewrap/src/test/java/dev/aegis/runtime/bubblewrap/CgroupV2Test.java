package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.RuntimeFailure;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The v2 code on a real cgroup2 tree: the unified root on a v2 host, /sys/fs/cgroup/unified on a hybrid one (this
 * machine). Killing and removal need no controllers, so they are tested for real on either.
 */
class CgroupV2Test {
    static Path v2;

    @BeforeAll
    static void findTree() throws IOException {
        v2 = Files.readAllLines(Path.of("/proc/self/mountinfo")).stream().map(l -> l.split(" "))
                .filter(f -> f[f.length - 3].equals("cgroup2")).map(f -> Path.of(f[4])).findFirst().orElse(null);
        assumeTrue(v2 != null, "SKIPPED LOUDLY: this kernel mounts no cgroup2 tree, so the v2 code cannot be tried here");
    }

    @Test
    void killsEveryProcessAndRemovesTheCgroup() throws Exception {
        CgroupV2 cg = new CgroupV2(v2, "aegis-v2test-" + ProcessHandle.current().pid());
        Path parent = v2.resolve("aegis-v2test-" + ProcessHandle.current().pid());
        Path child = Files.createDirectories(parent.resolve("i-1"));
        try {
            Process p = new ProcessBuilder("/bin/sh", "-c", "echo $$ > " + child.resolve("cgroup.procs")
                    + " && (setsid sleep 1000 &) && exec sleep 1000").start();
            while (Cgroup.pids(child.resolve("cgroup.procs")).size() < 2) Thread.sleep(5);
            assertThat(cg.children()).containsExactly("i-1");
            cg.remove("i-1");
            assertThat(p.waitFor()).isEqualTo(137);
            assertThat(child).doesNotExist();
            cg.removeParent();
            assertThat(parent).doesNotExist();
        } finally {
            if (Files.exists(child)) Files.delete(child);
            Files.deleteIfExists(parent);
        }
    }

    @Test
    void saysWhichControllerIsMissing() {
        Optional<String> missing = java.util.stream.Stream.of("memory", "pids", "cpu")
                .filter(c -> !Cgroup.read(v2.resolve("cgroup.controllers")).contains(c)).findFirst();
        assumeTrue(missing.isPresent(), "this v2 tree has every controller; spawning tests cover it");
        assertThatThrownBy(() -> new CgroupV2(v2, "aegis-v2test").prepare()).isInstanceOf(RuntimeFailure.class)
                .hasMessageContaining("controller " + missing.get() + " is not available").hasMessageContaining("Delegate=yes");
        assertThat(v2.resolve("aegis-v2test")).doesNotExist();
    }
}
