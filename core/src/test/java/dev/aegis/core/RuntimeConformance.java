package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The contract every {@link AgentRuntime} must keep, driven the way the orchestrator drives a runtime. A runtime
 * joins with a short subclass saying how to build it and how to see what it left on the host. Agents are plain
 * {@code sh} scripts, so any image or root file system with a POSIX shell serves.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class RuntimeConformance {
    private static final AtomicInteger SEQ = new AtomicInteger();
    protected static final Manifest.Resources SMALL =
            new Manifest.Resources(1.0, 128L << 20, 64, 8L << 20, Duration.ofSeconds(10));

    protected Path root;
    protected AgentRuntime runtime;
    private ServerSocketChannel socketServer;
    private Path agentDir, agentLib, socket;

    /** A runtime keeping its state under {@code stateDir}. */
    protected abstract AgentRuntime create(Path stateDir);

    /** What of {@code id} still exists on the host (processes, cgroups, containers, folders); empty when clean. */
    protected abstract List<String> leftovers(InstanceId id);

    /** The manifest's runtime name and image for this runtime's test agents. */
    protected abstract String runtimeName();

    protected Optional<String> image() {
        return Optional.empty();
    }

    @BeforeAll
    void setUp() throws IOException {
        root = Files.createTempDirectory("aegis-conformance");
        agentDir = Files.createDirectories(root.resolve("agent"));
        agentLib = Files.createDirectories(root.resolve("lib"));
        Files.writeString(agentDir.resolve("hello.txt"), "hello from /agent\n");
        socket = root.resolve("agent.sock");
        socketServer = ServerSocketChannel.open(StandardProtocolFamily.UNIX).bind(UnixDomainSocketAddress.of(socket));
        // As the server sets them up: code readable by any sandbox uid, the socket open to the sandbox group.
        for (Path p : List.of(root, agentDir, agentLib)) Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
        Files.setAttribute(socket, "unix:gid", 1000);
        runtime = create(root.resolve("state"));
        assertThat(runtime.isApplicable()).as(runtime.description()).isTrue();
    }

    @AfterAll
    void tearDown() throws IOException {
        runtime.reclaim();
        socketServer.close();
    }

    protected SandboxSpec spec(Manifest.Resources r, Map<String, String> env, String script) {
        Manifest m = new Manifest("conformance", "1.0.0", runtimeName(), List.of("sh", "-c", script), image(), r,
                Manifest.Permissions.NONE, List.of(), Manifest.Pool.DEFAULT);
        InstanceId id = new InstanceId("c-" + ProcessHandle.current().pid() + "-" + SEQ.incrementAndGet());
        return new SandboxSpec(id, m, agentDir, socket, agentLib, Optional.empty(), env, List.of(), SandboxSpec.OutputLimits.DEFAULT);
    }

    protected record Run(InstanceId id, Outcome outcome, List<String> logs, Duration took) {
        String output() {
            return outcome instanceof Outcome.Exited e ? e.output().strip() : "";
        }

        int code() {
            return outcome instanceof Outcome.Exited e ? e.code() : -1;
        }
    }

    /** Spawns, executes and terminates one task; then nothing of the instance may remain. */
    protected Run run(SandboxSpec spec, String task) {
        List<String> logs = Collections.synchronizedList(new ArrayList<>());
        InstanceId id = runtime.spawn(spec);
        assertThat(runtime.status(id)).isEqualTo(InstanceState.WARM);
        long t0 = System.nanoTime();
        Outcome outcome = runtime.execute(id, task, logs::add);
        Duration took = Duration.ofNanos(System.nanoTime() - t0);
        runtime.terminate(id);
        assertThat(runtime.status(id)).isIn(InstanceState.TERMINATED, InstanceState.FAILED);
        assertThat(leftovers(id)).as("left behind by " + id).isEmpty();
        return new Run(id, outcome, List.copyOf(logs), took);
    }

    /** One row of the table: a script, its input, and what must be true of the run. */
    protected record Case(String name, Manifest.Resources resources, String script, String input, Consumer<Run> check) {
        @Override
        public String toString() {
            return name;
        }
    }

    protected Stream<Case> cases() {
        Manifest.Resources shortTimeout = new Manifest.Resources(1.0, 128L << 20, 64, 8L << 20, Duration.ofSeconds(1));
        Manifest.Resources tinyMemory = new Manifest.Resources(1.0, 32L << 20, 64, 8L << 20, Duration.ofSeconds(20));
        Manifest.Resources fewPids = new Manifest.Resources(1.0, 128L << 20, 16, 8L << 20, Duration.ofSeconds(3));
        return Stream.of(
                new Case("task on stdin comes back on stdout", SMALL, "cat", "{\"n\": 1}",
                        r -> assertThat(r.output()).isEqualTo("{\"n\": 1}")),
                new Case("task.json holds the task", SMALL, "cat >/dev/null; cat /run/aegis/task.json", "{\"f\": 2}",
                        r -> assertThat(r.output()).isEqualTo("{\"f\": 2}")),
                new Case("result.json is the result when stdout is empty", SMALL,
                        "cat >/dev/null; echo '{\"via\": \"file\"}' > /run/aegis/result.json", "{}",
                        r -> assertThat(r.output()).isEqualTo("{\"via\": \"file\"}")),
                new Case("exit codes pass through", SMALL, "exit 42", "{}", r -> assertThat(r.code()).isEqualTo(42)),
                new Case("stderr lines are the logs, in order", SMALL, "for i in 1 2 3; do echo line $i >&2; done; echo {}", "{}",
                        r -> assertThat(r.logs()).containsExactly("line 1", "line 2", "line 3")),
                new Case("the agent folder is the read-only working dir", SMALL,
                        "cat hello.txt >&2; touch /agent/x 2>/dev/null && echo writable || echo read-only", "{}",
                        r -> {
                            assertThat(r.output()).isEqualTo("read-only");
                            assertThat(r.logs()).containsExactly("hello from /agent");
                        }),
                new Case("the root file system is read-only", SMALL,
                        "for d in / /etc /usr /run/aegis; do touch $d/aegis-probe 2>/dev/null && echo $d; done; echo done", "{}",
                        r -> assertThat(r.output()).isEqualTo("done")),
                new Case("/workspace is writable up to its size", SMALL,
                        "echo hi > /workspace/a && head -c 16777216 /dev/zero > /workspace/big 2>/dev/null; echo $? $(cat /workspace/a)", "{}",
                        r -> assertThat(r.output()).isEqualTo("1 hi")),
                new Case("runs unprivileged", SMALL, "id -u", "{}", r -> assertThat(r.output()).isNotEqualTo("0")),
                new Case("no network device but loopback", SMALL,
                        "tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d ' '", "{}",
                        r -> assertThat(r.output()).isEqualTo("lo")),
                new Case("timeout kills the whole tree", shortTimeout, "sleep 1000 & sleep 1000", "{}",
                        r -> {
                            assertThat(r.outcome()).isInstanceOf(Outcome.TimedOut.class);
                            assertThat(r.took()).isLessThan(Duration.ofSeconds(6));
                        }),
                new Case("memory beyond the limit is killed", tinyMemory,
                        "x=a; while :; do x=$x$x; done", "{}",
                        r -> assertThat(r.outcome()).isInstanceOfAny(Outcome.Killed.class, Outcome.Exited.class)
                                .satisfies(o -> assertThat(o instanceof Outcome.Exited e && e.code() == 0).isFalse())),
                // Counts processes with shell builtins only: at the limit, ls or grep could not be forked.
                new Case("pids beyond the limit cannot be created", fewPids,
                        "i=0; while [ $i -lt 40 ]; do (sleep 5 &) 2>/dev/null; i=$((i+1)); done; set -- /proc/[0-9]*; echo $#", "{}",
                        r -> assertThat(Integer.parseInt(r.output())).isBetween(1, 16)),
                new Case("100 MB on stdout is cut, not stored", SMALL, "head -c 100000000 /dev/zero | tr '\\0' a", "{}",
                        r -> {
                            assertThat(r.outcome()).isInstanceOf(Outcome.Exited.class);
                            assertThat(((Outcome.Exited) r.outcome()).outputTruncated()).isTrue();
                            assertThat(r.took()).isLessThan(Duration.ofSeconds(8));
                        }));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void contract(Case c) {
        c.check().accept(run(spec(c.resources(), Map.of(), c.script()), c.input()));
    }

    @Test
    void environmentHoldsOnlyWhatTheOrchestratorSets() {
        Run r = run(spec(SMALL, Map.of("AEGIS_TOKEN", "t0k"), "env | cut -d= -f1 | sort | tr '\\n' ' '"), "{}");
        List<String> names = List.of(r.output().split(" "));
        assertThat(names).contains("AEGIS_TOKEN", "PATH").doesNotContain("JAVA_HOME", "USER", "SSH_AUTH_SOCK", "MAVEN_OPTS");
    }

    @Test
    void anInstanceRunsExactlyOneTask() {
        SandboxSpec spec = spec(SMALL, Map.of(), "cat");
        InstanceId id = runtime.spawn(spec);
        try {
            runtime.execute(id, "{}", line -> { });
            assertThatThrownBy(() -> runtime.execute(id, "{}", line -> { })).isInstanceOf(RuntimeFailure.class);
        } finally {
            runtime.terminate(id);
        }
        assertThat(leftovers(id)).isEmpty();
    }

    @Test
    void warmInstancesWaitAndCanBeTerminatedUnused() throws Exception {
        List<InstanceId> warm = new ArrayList<>();
        for (int i = 0; i < 3; i++) warm.add(runtime.spawn(spec(SMALL, Map.of(), "echo started >&2; cat")));
        Thread.sleep(200);
        for (InstanceId id : warm) assertThat(runtime.status(id)).isEqualTo(InstanceState.WARM);
        for (InstanceId id : warm) runtime.terminate(id);
        for (InstanceId id : warm) {
            runtime.terminate(id);
            assertThat(leftovers(id)).isEmpty();
        }
    }

    @Test
    void terminateDuringExecuteEndsItAsKilled() throws Exception {
        InstanceId id = runtime.spawn(spec(SMALL, Map.of(), "echo up >&2; sleep 1000"));
        List<String> logs = Collections.synchronizedList(new ArrayList<>());
        var exec = Executors.newVirtualThreadPerTaskExecutor().submit(() -> runtime.execute(id, "{}", logs::add));
        for (int i = 0; i < 200 && logs.isEmpty(); i++) Thread.sleep(20);
        runtime.terminate(id);
        assertThat(exec.get()).isInstanceOf(Outcome.Killed.class);
        assertThat(leftovers(id)).isEmpty();
    }

    @Test
    void eightConcurrentTasks() throws Exception {
        try (var pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<Run>> runs = new ArrayList<>();
            for (int i = 0; i < 8; i++) {
                String task = "{\"i\": " + i + "}";
                Callable<Run> one = () -> run(spec(SMALL, Map.of(), "cat"), task);
                runs.add(pool.submit(one));
            }
            for (int i = 0; i < 8; i++) assertThat(runs.get(i).get().output()).isEqualTo("{\"i\": " + i + "}");
        }
    }

    @Test
    void reclaimRemovesEverythingOfACrashedPredecessor() {
        AgentRuntime crashed = create(root.resolve("state-crashed"));
        InstanceId id = crashed.spawn(spec(SMALL, Map.of(), "cat"));
        assertThat(leftovers(id)).isNotEmpty();
        AgentRuntime successor = create(root.resolve("state-crashed"));
        assertThat(successor.reclaim()).isGreaterThanOrEqualTo(1);
        assertThat(leftovers(id)).isEmpty();
    }

    /** What billing reads: CPU time, peak memory and uptime, live and after execute, gone after terminate. */
    @Test
    void usageIsMetered() {
        assertThat(runtime).as("every runtime meters its instances").isInstanceOf(Metered.class);
        Metered metered = (Metered) runtime;
        // CPU in a shell loop; 6 MB of tmpfs pages (under the file size cap), which count against the sandbox's memory.
        InstanceId id = runtime.spawn(spec(SMALL, Map.of(),
                "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; head -c 6000000 /dev/zero > /tmp/fill && echo {}"));
        try {
            assertThat(metered.usage(id)).as("live usage of a warm instance").isPresent();
            assertThat(runtime.execute(id, "{}", line -> { })).isEqualTo(new Outcome.Exited(0, "{}\n", false));
            Usage u = metered.usage(id).orElseThrow();
            assertThat(u.cpu()).isGreaterThan(Duration.ofMillis(20));
            assertThat(u.memoryPeakBytes()).isGreaterThanOrEqualTo(6_000_000);
            assertThat(u.uptime()).isGreaterThanOrEqualTo(u.cpu().dividedBy(2));
            assertThat(metered.usage(id)).as("final figures stay until terminate").contains(u);
        } finally {
            runtime.terminate(id);
        }
        assertThat(metered.usage(id)).isEmpty();
        assertThat(leftovers(id)).isEmpty();
    }

    @AfterEach
    void nothingOfThisClassLingers() {
        assertThat(runtime.reclaim()).as("instances left behind by the test").isZero();
    }
}
