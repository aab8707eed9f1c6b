package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.InstanceId;
import dev.aegis.core.InstanceState;
import dev.aegis.core.RuntimeFailure;
import dev.aegis.core.StdioRuntime;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A long stdio session (how MCP stdio tool servers run): many lines in and out of one sandboxed process. */
class StdioSessionTest {
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
    void talksLineByLineWithNoResultCapAndLeavesNothing() throws Exception {
        String echo = "import sys\nfor l in sys.stdin:\n    print(l.strip().upper(), flush=True)\n    print('seen', l.strip(), file=sys.stderr, flush=True)\n";
        InstanceId id = f.runtime.spawn(f.spec(Fixture.SMALL, new dev.aegis.core.SandboxSpec.OutputLimits(16, 1 << 20), List.of(),
                "python3", "-u", "-c", echo));
        List<String> logs = new CopyOnWriteArrayList<>();
        StdioRuntime.Stdio io = f.runtime.attach(id, logs::add);
        assertThat(f.runtime.status(id)).isEqualTo(InstanceState.HOT);
        var out = new BufferedReader(new InputStreamReader(io.stdout(), StandardCharsets.UTF_8));
        // Far more than the 16-byte result cap goes through: a session's stdout is a stream, not a result.
        for (int i = 0; i < 50; i++) {
            io.stdin().write(("message number " + i + "\n").getBytes(StandardCharsets.UTF_8));
            io.stdin().flush();
            assertThat(out.readLine()).isEqualTo("MESSAGE NUMBER " + i);
        }
        assertThat(logs).contains("seen message number 0");
        assertThatThrownBy(() -> f.runtime.attach(id, logs::add)).isInstanceOf(RuntimeFailure.class).hasMessageContaining("exactly one");
        assertThatThrownBy(() -> f.runtime.execute(id, "{}", logs::add)).isInstanceOf(RuntimeFailure.class);
        f.runtime.terminate(id);
        assertThat(f.runtime.status(id)).isEqualTo(InstanceState.TERMINATED);
        f.assertNothingLeft(id);
    }

    @Test
    void aCrashingServerEndsItsStdout() throws Exception {
        InstanceId id = f.runtime.spawn(f.spec(Fixture.SMALL, "/bin/sh", "-c", "read line; echo got $line; exit 3"));
        StdioRuntime.Stdio io = f.runtime.attach(id, l -> { });
        io.stdin().write("x\n".getBytes(StandardCharsets.UTF_8));
        io.stdin().flush();
        var out = new BufferedReader(new InputStreamReader(io.stdout(), StandardCharsets.UTF_8));
        assertThat(out.readLine()).isEqualTo("got x");
        assertThat(out.readLine()).isNull();
        f.runtime.terminate(id);
        f.assertNothingLeft(id);
    }

    @Test
    void unknownInstanceIsAClearFailure() {
        assertThatThrownBy(() -> f.runtime.attach(new InstanceId("nope"), l -> { })).isInstanceOf(RuntimeFailure.class)
                .hasMessageContaining("does not exist");
    }
}
