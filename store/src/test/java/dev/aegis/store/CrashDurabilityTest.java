package dev.aegis.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.core.LogLine;
import dev.aegis.core.Task;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The promise "durable when the call returns", checked against a real crash: a child JVM writes and reports each
 * write after its call returned, then is killed with SIGKILL mid-stream; every reported write must be there.
 */
class CrashDurabilityTest {
    @TempDir
    Path dataDir;

    @Test
    void everyReturnedWriteSurvivesSigkill() throws Exception {
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process child = new ProcessBuilder(java, "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Writer.class.getName(), dataDir.toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        List<String> acknowledged = new ArrayList<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; acknowledged.size() < 300 && (line = out.readLine()) != null; ) acknowledged.add(line);
            child.destroyForcibly(); // SIGKILL: no shutdown hook, no close(), writes in flight are cut
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(acknowledged).hasSize(300);
        try (Database db = Database.inDataDir(dataDir)) {
            for (String id : acknowledged) {
                assertThat(db.tasks().find(id)).as(id).isPresent();
                assertThat(db.tasks().logs(id, 0)).as(id).hasSize(1);
            }
        }
    }

    /** The child: writes until killed, printing each task id once both its writes returned. */
    public static final class Writer {
        public static void main(String[] args) {
            Database db = Database.inDataDir(Path.of(args[0]));
            for (int i = 0; ; i++) {
                String id = "crash-" + i;
                db.tasks().create(Task.queued(id, "acme", "echo", "{}", Instant.now()));
                db.tasks().appendLogs(List.of(new LogLine(id, 1, Instant.now(), "line")));
                System.out.println(id);
                System.out.flush();
            }
        }
    }
}
