package dev.aegis.memory;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.core.Memory;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Crash durability: a child JVM stores memories as fast as it can and is killed with SIGKILL mid-stream; the index
 * then opens, and every memory the child was told was stored is there, whole and searchable.
 */
class CrashDurabilityTest {
    @TempDir
    Path dir;

    @Test
    void everyAcknowledgedMemorySurvivesKillDashNine() throws Exception {
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process child = new ProcessBuilder(javaBin, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), CrashChild.class.getName(), dir.toString())
                .redirectError(ProcessBuilder.Redirect.DISCARD).start();
        Map<String, String> acked = new LinkedHashMap<>();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("ready");
            for (String line; acked.size() < 40 && (line = out.readLine()) != null; ) {
                String[] parts = line.split(" ", 3);
                if (parts[0].equals("ack")) acked.put(parts[1], parts[2]);
            }
            child.destroyForcibly(); // SIGKILL, mid-write: the child never stops between stores
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
        }
        assertThat(acked).hasSizeGreaterThanOrEqualTo(40);

        try (Fixtures.Node node = Fixtures.cortex(dir, Fixtures.defaultModel(), java.time.Clock.systemUTC())) {
            TenantIndex index = node.cortex().index("acme");
            List<String> missing = new ArrayList<>();
            for (Map.Entry<String, String> a : acked.entrySet())
                if (!index.existing("crasher", MemoryDoc.contentHash(a.getValue())).equals(java.util.Optional.of(a.getKey()))) missing.add(a.getValue());
            assertThat(missing).as("acknowledged but lost").isEmpty();
            assertThat(node.cortex().stats("acme").memories()).isGreaterThanOrEqualTo(acked.size());
            String last = acked.values().stream().reduce((x, y) -> y).orElseThrow();
            assertThat(node.cortex().search(Memory.Query.of("acme", last, 3)).hits()).anySatisfy(h -> assertThat(h.text()).isEqualTo(last));
            // And the index takes writes again.
            node.cortex().store(new Memory.Note("acme", "crasher", java.util.Optional.empty(), Memory.Kind.NOTE, "after the crash",
                    List.of(), java.util.Optional.empty()));
        }
    }
}
