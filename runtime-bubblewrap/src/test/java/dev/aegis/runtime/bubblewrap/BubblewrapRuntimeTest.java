package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.InstanceId;
import dev.aegis.core.InstanceState;
import dev.aegis.core.Outcome;
import dev.aegis.core.RuntimeFailure;
import dev.aegis.core.SandboxSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Lifecycle and I/O through the AgentRuntime port, against real bwrap. */
class BubblewrapRuntimeTest {
    static Fixture f;

    @BeforeAll
    static void setUp() throws Exception {
        f = new Fixture();
    }

    @AfterAll
    static void tearDown() throws Exception {
        f.close();
    }

    @Test
    void appliesHereAndSaysWhy() {
        assertThat(f.runtime.isApplicable()).as(f.runtime.description()).isTrue();
        assertThat(f.runtime.description()).startsWith("bubblewrap 0.").contains("/bwrap", "cgroup v", "seccomp on");
        assertThat(f.runtime.name()).isEqualTo("bubblewrap");
    }

    @Test
    void echoesTheTaskFromStdin() {
        var run = f.run(f.spec(Fixture.SMALL, "cat"), "{\"q\":\"from stdin\"}");
        assertThat(run.outcome()).isEqualTo(new Outcome.Exited(0, "{\"q\":\"from stdin\"}", false));
    }

    @Test
    void echoesTheTaskFromTaskJson() {
        var run = f.run(f.spec(Fixture.SMALL, "python3", "-c", "print(open('/run/aegis/task.json').read())"), "{\"q\":1}");
        assertThat(run.outcome()).isEqualTo(new Outcome.Exited(0, "{\"q\":1}\n", false));
    }

    @Test
    void fallsBackToResultJsonWhenStdoutIsEmpty() {
        var run = f.run(f.spec(Fixture.SMALL, "/bin/sh", "-c", "echo '{\"r\":42}' > /run/aegis/result.json"), "{}");
        assertThat(run.outcome()).isEqualTo(new Outcome.Exited(0, "{\"r\":42}\n", false));
    }

    @Test
    void reportsExitCodes() {
        assertThat(f.run(f.spec(Fixture.SMALL, "/bin/sh", "-c", "echo partial; exit 42"), "{}").outcome())
                .isEqualTo(new Outcome.Exited(42, "partial\n", false));
        assertThat(f.run(f.spec(Fixture.SMALL, "no-such-program"), "{}").outcome())
                .isEqualTo(new Outcome.Exited(127, "", false));
    }

    @Test
    void streamsStderrLinesLiveAndInOrder() throws Exception {
        CountDownLatch second = new CountDownLatch(1);
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        InstanceId id = f.runtime.spawn(f.spec(Fixture.SMALL, "/bin/sh", "-c",
                "for i in 1 2 3; do echo line$i >&2; done; sleep 1.5; echo last >&2; echo '{}'"));
        var execution = CompletableFuture.supplyAsync(() -> f.runtime.execute(id, "{}", l -> {
            lines.add(l);
            if (l.equals("line3")) second.countDown();
        }));
        assertThat(second.await(1, TimeUnit.SECONDS)).as("first lines arrive before the agent ends").isTrue();
        assertThat(execution).isNotDone();
        assertThat(f.runtime.status(id)).isEqualTo(InstanceState.HOT);
        assertThat(execution.get(10, TimeUnit.SECONDS)).isEqualTo(new Outcome.Exited(0, "{}\n", false));
        assertThat(lines).containsExactly("line1", "line2", "line3", "last");
        f.runtime.terminate(id);
        f.assertNothingLeft(id);
    }

    @Test
    void capsLogsButKeepsDraining() {
        var run = f.run(f.spec(Fixture.SMALL, new SandboxSpec.OutputLimits(1 << 20, 1000), List.of(), "python3", "-c",
                "import sys\nfor i in range(20000): print('x' * 99, file=sys.stderr)\nprint('{}')"), "{}");
        assertThat(run.outcome()).isEqualTo(new Outcome.Exited(0, "{}\n", false));
        assertThat(run.logs()).hasSize(11).last().asString().startsWith("[aegis] logs cut");
    }

    @Test
    void movesThroughItsLifecycle() {
        InstanceId id = f.runtime.spawn(f.spec(Fixture.SMALL, "/bin/sh", "-c", "echo '{}'"));
        assertThat(f.runtime.status(id)).isEqualTo(InstanceState.WARM);
        assertThat(f.runtime.execute(id, "{}", l -> {})).isEqualTo(new Outcome.Exited(0, "{}\n", false));
        assertThat(f.runtime.status(id)).isEqualTo(InstanceState.TERMINATED);
        assertThatThrownBy(() -> f.runtime.execute(id, "{}", l -> {})).isInstanceOf(RuntimeFailure.class).hasMessageContaining("one task");
        f.runtime.terminate(id);
        f.runtime.terminate(id);
        assertThat(f.runtime.status(id)).isEqualTo(InstanceState.TERMINATED);
        assertThat(f.runtime.status(new InstanceId("never-spawned"))).isEqualTo(InstanceState.TERMINATED);
        f.assertNothingLeft(id);
    }

    @Test
    void terminateWhileWarmOrHotKillsEverything() throws Exception {
        InstanceId warm = f.runtime.spawn(f.spec(Fixture.SMALL, "sleep", "1000"));
        f.runtime.terminate(warm);
        f.assertNothingLeft(warm);

        InstanceId hot = f.runtime.spawn(f.spec(Fixture.SMALL, "sleep", "1000"));
        var execution = CompletableFuture.supplyAsync(() -> f.runtime.execute(hot, "{}", l -> {}));
        while (f.runtime.status(hot) != InstanceState.HOT) Thread.sleep(5);
        Thread.sleep(100);
        f.runtime.terminate(hot);
        assertThat(execution.get(5, TimeUnit.SECONDS)).isEqualTo(new Outcome.Killed("terminated"));
        f.assertNothingLeft(hot);
    }

    @Test
    void failedSpawnsSayWhyAndLeaveNothing() throws Exception {
        SandboxSpec missing = new SandboxSpec(Fixture.newId(), f.spec(Fixture.SMALL, "true").manifest(),
                f.root.resolve("nope"), f.socket, f.agentLib, java.util.Optional.empty(), java.util.Map.of(), List.of(), SandboxSpec.OutputLimits.DEFAULT);
        assertThatThrownBy(() -> f.runtime.spawn(missing)).isInstanceOf(RuntimeFailure.class)
                .hasMessageContaining("agentDir").hasMessageContaining("does not exist");
        f.assertNothingLeft(missing.id());

        // bwrap itself fails: a directory mounted below a path that an earlier mount made a file.
        var file = Files.writeString(f.root.resolve("a-file"), "x");
        SandboxSpec bad = f.spec(Fixture.SMALL, SandboxSpec.OutputLimits.DEFAULT, List.of(
                new SandboxSpec.Mount(file, "/data/f", false), new SandboxSpec.Mount(f.agentLib, "/data/f/sub", false)), "true");
        assertThatThrownBy(() -> f.runtime.spawn(bad)).isInstanceOf(RuntimeFailure.class)
                .hasMessageContaining("bubblewrap could not start the sandbox");
        f.assertNothingLeft(bad.id());
        assertThat(f.runtime.status(bad.id())).isEqualTo(InstanceState.TERMINATED);

        SandboxSpec twice = f.spec(Fixture.SMALL, "true");
        f.runtime.spawn(twice);
        assertThatThrownBy(() -> f.runtime.spawn(twice)).isInstanceOf(RuntimeFailure.class).hasMessageContaining("already exists");
        f.runtime.terminate(twice.id());
        f.assertNothingLeft(twice.id());
    }

    @Test
    void survivesTheEndOfTheThreadThatSpawnedIt() throws Exception {
        // PR_SET_PDEATHSIG (--die-with-parent) fires when the forking *thread* exits.
        AtomicReference<InstanceId> fromPlatform = new AtomicReference<>(), fromVirtual = new AtomicReference<>();
        Thread.ofPlatform().start(() -> fromPlatform.set(f.runtime.spawn(f.spec(Fixture.SMALL, "cat")))).join();
        Thread.ofVirtual().start(() -> fromVirtual.set(f.runtime.spawn(f.spec(Fixture.SMALL, "cat")))).join();
        Thread.sleep(300);
        for (InstanceId id : List.of(fromPlatform.get(), fromVirtual.get())) {
            assertThat(f.runtime.pid(id).flatMap(ProcessHandle::of).map(ProcessHandle::isAlive)).contains(true);
            assertThat(f.runtime.execute(id, "alive", l -> {})).isEqualTo(new Outcome.Exited(0, "alive", false));
            f.runtime.terminate(id);
            f.assertNothingLeft(id);
        }
    }

    @Test
    void appliesTheManifestLimitsToItsCgroups() throws Exception {
        var r = new dev.aegis.core.Manifest.Resources(0.5, 96L << 20, 40, 8L << 20, java.time.Duration.ofSeconds(5));
        InstanceId id = f.runtime.spawn(f.spec(r, "cat"));
        var cg = java.nio.file.Path.of("/sys/fs/cgroup");
        String parent = BubblewrapRuntime.cgroupParent(f.stateDir);
        java.util.function.Function<String, String> read = p -> {
            try {
                return Files.readString(cg.resolve(p.replace("$", parent + "/" + id.value()))).strip();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        assertThat(read.apply("memory/$/memory.limit_in_bytes")).isEqualTo(Long.toString(96L << 20));
        assertThat(read.apply("memory/$/memory.memsw.limit_in_bytes")).isEqualTo(Long.toString(96L << 20));
        assertThat(read.apply("pids/$/pids.max")).isEqualTo("40");
        assertThat(read.apply("cpu/$/cpu.cfs_quota_us")).isEqualTo("50000");
        long bwrap = f.runtime.pid(id).orElseThrow();
        for (String c : List.of("memory", "pids", "cpu", "freezer"))
            assertThat(read.apply(c + "/$/cgroup.procs")).as(c).contains(Long.toString(bwrap));
        f.runtime.terminate(id);
        f.assertNothingLeft(id);
    }

    @Test
    void reportsLatency() throws Exception {
        int n = 20;
        long rt = 0, raw = 0;
        for (int i = 0; i < n + 3; i++) {
            long t0 = System.nanoTime();
            var run = f.run(f.spec(Fixture.SMALL, "/bin/sh", "-c", "echo {}"), "{}");
            long t1 = System.nanoTime();
            Process p = new ProcessBuilder("bwrap", "--unshare-all", "--die-with-parent", "--ro-bind", "/usr", "/usr",
                    "--symlink", "usr/bin", "/bin", "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
                    "--proc", "/proc", "--dev", "/dev", "/bin/sh", "-c", "echo {}").start();
            String out = new String(p.getInputStream().readAllBytes());
            p.waitFor();
            long t2 = System.nanoTime();
            assertThat(run.output()).isEqualTo(out).isEqualTo("{}\n");
            if (i >= 3) { // warm-up
                rt += t1 - t0;
                raw += t2 - t1;
            }
        }
        System.out.printf("LATENCY spawn+execute+terminate of sh -c 'echo {}': %.1f ms; raw bwrap: %.1f ms; ratio %.1fx%n",
                rt / n / 1e6, raw / n / 1e6, (double) rt / raw);
        // No time bound here: speed is bench/'s job (./bench/run start), where a baseline runs side by side.
    }

    @Test
    void spawnsManyAtOnce() {
        var runs = java.util.stream.IntStream.range(0, 8).mapToObj(i -> CompletableFuture.supplyAsync(
                () -> f.run(f.spec(Fixture.SMALL, "cat"), "{\"n\":" + i + "}"))).toList();
        for (int i = 0; i < runs.size(); i++)
            assertThat(runs.get(i).join().outcome()).isEqualTo(new Outcome.Exited(0, "{\"n\":" + i + "}", false));
    }
}
