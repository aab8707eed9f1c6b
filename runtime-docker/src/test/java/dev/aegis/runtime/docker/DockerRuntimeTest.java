package dev.aegis.runtime.docker;

import dev.aegis.core.InstanceId;
import dev.aegis.core.InstanceState;
import dev.aegis.core.Outcome;
import dev.aegis.core.RuntimeFailure;
import dev.aegis.core.SandboxSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Lifecycle and I/O through the AgentRuntime port, against a real Docker Engine. */
class DockerRuntimeTest {
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
        assertThat(f.runtime.description()).startsWith("docker engine ").contains("API 1.", "docker.sock", DockerRuntime.DEFAULT_IMAGE);
        assertThat(f.runtime.name()).isEqualTo("docker");
    }

    @Test
    void saysHowToFixAnEngineThatDoesNotAnswer() throws Exception {
        try (var nowhere = new DockerRuntime(f.root, DockerRuntime.DEFAULT_IMAGE, java.net.URI.create("unix://" + f.root.resolve("no.sock")))) {
            assertThat(nowhere.isApplicable()).isFalse();
            assertThat(nowhere.description()).contains("does not answer", "tools/docker-image.sh");
        }
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
        CountDownLatch third = new CountDownLatch(1);
        List<String> lines = Collections.synchronizedList(new ArrayList<>());
        InstanceId id = f.runtime.spawn(f.spec(Fixture.SMALL, "/bin/sh", "-c",
                "for i in 1 2 3; do echo line$i >&2; done; sleep 1.5; printf last >&2; echo '{}'"));
        var execution = CompletableFuture.supplyAsync(() -> f.runtime.execute(id, "{}", l -> {
            lines.add(l);
            if (l.equals("line3")) third.countDown();
        }));
        assertThat(third.await(1, TimeUnit.SECONDS)).as("first lines arrive before the agent ends").isTrue();
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
        assertThat(f.containersOf(Map.of(DockerRuntime.INSTANCE_LABEL, id.value()))).hasSize(1);
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
    void terminateWhileWarmOrHotRemovesTheContainer() throws Exception {
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
                f.root.resolve("nope"), f.socket, f.agentLib, java.util.Optional.empty(), Map.of(), List.of(), SandboxSpec.OutputLimits.DEFAULT);
        assertThatThrownBy(() -> f.runtime.spawn(missing)).isInstanceOf(RuntimeFailure.class)
                .hasMessageContaining("agentDir").hasMessageContaining("does not exist");
        f.assertNothingLeft(missing.id());

        SandboxSpec noImage = f.spec(Optional.of("aegis/no-such-image:1"), Fixture.SMALL, SandboxSpec.OutputLimits.DEFAULT, List.of(), "true");
        assertThatThrownBy(() -> f.runtime.spawn(noImage)).isInstanceOf(RuntimeFailure.class)
                .hasMessageContaining("aegis/no-such-image:1").hasMessageContaining("is not on the Docker Engine");
        f.assertNothingLeft(noImage.id());

        SandboxSpec twice = f.spec(Fixture.SMALL, "true");
        f.runtime.spawn(twice);
        assertThatThrownBy(() -> f.runtime.spawn(twice)).isInstanceOf(RuntimeFailure.class).hasMessageContaining("already exists");
        f.runtime.terminate(twice.id());
        f.assertNothingLeft(twice.id());
    }

    @Test
    void refusesAnAgentSocketTheContainerUserCannotOpen() throws Exception {
        var closed = java.nio.file.Files.createFile(f.root.resolve("root-only.sock"),
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rw-------")));
        SandboxSpec s = new SandboxSpec(Fixture.newId(), f.spec(Fixture.SMALL, "true").manifest(),
                f.agentDir, closed, f.agentLib, java.util.Optional.empty(), Map.of(), List.of(), SandboxSpec.OutputLimits.DEFAULT);
        assertThatThrownBy(() -> f.runtime.spawn(s)).isInstanceOf(RuntimeFailure.class)
                .hasMessageContaining("mode 0600 owned by 0:0").hasMessageContaining("chown it to 1000");
        f.assertNothingLeft(s.id());
    }
}
