package dev.aegis.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A third party checks our export with tools/verify_audit.py (stdlib Python + openssl), not with our code. */
class PythonVerifierTest {
    private static final Path SCRIPT = Path.of("../tools/verify_audit.py").toAbsolutePath().normalize();
    @TempDir
    Path dir;
    Path export;
    Path pem;

    @BeforeEach
    void exportLog() throws Exception {
        export = dir.resolve("audit.jsonl");
        pem = dir.resolve("audit.pub.pem");
        try (FileAuditLog log = FileAuditLog.open(dir.resolve("log"), AuditOptions.defaults().withCheckpointEvery(10));
             OutputStream out = Files.newOutputStream(export)) {
            for (int i = 1; i <= 57; i++) log.append(Events.sample(i));
            log.export(1, out);
            Files.writeString(pem, log.publicKey());
        }
    }

    @Test
    void theScriptAcceptsTheExportAndChecksSignaturesWithOpenssl() throws Exception {
        // 51..57 are chained but not yet under a checkpoint; the next export covers them.
        assertThat(run(export, pem)).startsWith("OK: records up to seq 57, 5 checkpoints; signatures verified with openssl");
        assertThat(run(export, null)).contains("signatures NOT verified");
    }

    @Test
    void theScriptNamesTheFirstBadRecord() throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(export));
        lines.set(1, lines.get(1).replace("tenant-2", "tenant-0")); // seq 2
        Files.write(export, lines);
        assertThat(run(export, pem)).startsWith("BROKEN at seq 2: edited");
    }

    @Test
    void theScriptFindsDeletedRecordsAndForgedSignatures() throws Exception {
        List<String> lines = new ArrayList<>(Files.readAllLines(export));
        List<String> deleted = new ArrayList<>(lines);
        deleted.remove(14); // seq 14 (line 11 is the first checkpoint)
        Files.write(export, deleted);
        assertThat(run(export, pem)).startsWith("BROKEN at seq 14: missing");
        String cp = lines.get(10);
        String sig = cp.substring(cp.indexOf("\"sig\":\"") + 7, cp.lastIndexOf('"'));
        lines.set(10, cp.replace(sig, "A" + sig.substring(1)));
        Files.write(export, lines);
        assertThat(run(export, pem)).startsWith("BROKEN at seq 1: bad checkpoint signature");
    }

    private String run(Path file, Path key) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("python3", SCRIPT.toString(), file.toString()));
        if (key != null) cmd.add(key.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isEqualTo(out.startsWith("OK") ? 0 : 1);
        return out;
    }
}
