package dev.aegis.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.core.AegisException;
import dev.aegis.core.AgentFiles.Installed;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.apache.commons.compress.compressors.gzip.GzipCompressorOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FileAgentFilesTest {
    @TempDir
    Path tmp;
    Path dataDir;
    Path agent;
    FileAgentFiles files;

    @BeforeEach
    void setUp() throws IOException {
        dataDir = tmp.resolve("data");
        files = new FileAgentFiles(dataDir);
        agent = Files.createDirectories(tmp.resolve("echo"));
        Files.writeString(agent.resolve("agent.yaml"), StoreContract.ECHO_YAML);
        Files.writeString(agent.resolve("run.sh"), "#!/bin/sh\ncat\n");
        Files.setPosixFilePermissions(agent.resolve("run.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        Files.createDirectories(agent.resolve("lib/empty"));
        Files.writeString(agent.resolve("lib/util.py"), "x = 1\n");
    }

    @Test
    void sweepRemovesWhatACrashLeftButKeepsInstalledCode() throws IOException {
        Installed kept = files.install("acme", "echo", agent);
        Path upload = Files.createDirectories(dataDir.resolve("staging/upload-123/sub"));
        Path half = Files.createDirectories(dataDir.resolve("agents/acme/echo/.install-999"));
        Files.writeString(half.resolve("agent.yaml"), "half");
        assertThat(files.sweep()).isEqualTo(2);
        assertThat(upload.getParent()).doesNotExist();
        assertThat(half).doesNotExist();
        assertThat(kept.dir().resolve("agent.yaml")).exists();
        assertThat(files.sweep()).isZero();
    }

    @Test
    void readsTheManifestAndSaysWhenItIsMissingOrTooBig() throws IOException {
        assertThat(files.readManifest(agent)).isEqualTo(StoreContract.ECHO_YAML);
        Path bare = Files.createDirectories(tmp.resolve("bare"));
        assertThatThrownBy(() -> files.readManifest(bare)).isInstanceOf(AegisException.class)
                .hasMessage(bare + ": no agent.yaml found; an agent folder needs one")
                .satisfies(e -> assertThat(((AegisException) e).code()).isEqualTo("invalid_manifest"))
                .satisfies(e -> assertThat(((AegisException) e).field()).contains("agent.yaml"));
        Files.writeString(bare.resolve("agent.yaml"), "#".repeat(64 * 1024 + 1));
        assertThatThrownBy(() -> files.readManifest(bare)).hasMessageContaining("64 KiB");
    }

    @Test
    void installIsReadOnlyWithAStableDigestAndReusedForTheSameFiles() throws IOException {
        Installed first = files.install("acme", "echo", agent);
        assertThat(first.digest()).hasSize(64).matches("[0-9a-f]+");
        assertThat(first.dir()).isEqualTo(dataDir.resolve("agents/acme/echo/" + first.digest().substring(0, 12)));
        assertThat(first.dir().resolve("lib/util.py")).hasContent("x = 1");
        assertThat(first.dir().resolve("lib/empty")).isDirectory();
        assertThat(mode(first.dir())).isEqualTo("r-xr-xr-x");
        assertThat(mode(first.dir().resolve("lib"))).isEqualTo("r-xr-xr-x");
        assertThat(mode(first.dir().resolve("agent.yaml"))).isEqualTo("r--r--r--");
        assertThat(mode(first.dir().resolve("run.sh"))).isEqualTo("r-xr-xr-x");

        Installed again = files.install("acme", "echo", agent);
        assertThat(again).isEqualTo(first);
        assertThat(Files.list(first.dir().getParent())).containsExactly(first.dir()); // no temp folder left behind

        Files.writeString(agent.resolve("lib/util.py"), "x = 2\n");
        Installed changed = files.install("acme", "echo", agent);
        assertThat(changed.digest()).isNotEqualTo(first.digest());
        assertThat(first.dir().resolve("lib/util.py")).hasContent("x = 1"); // the old version is untouched

        files.delete(first.dir());
        assertThat(first.dir()).doesNotExist();
    }

    @Test
    void installRefusesLinksAndSpecialFiles() throws Exception {
        Files.createSymbolicLink(agent.resolve("passwd"), Path.of("/etc/passwd"));
        assertRefused(() -> files.install("acme", "echo", agent), "\"passwd\" is a symlink");
        Files.delete(agent.resolve("passwd"));
        Process p = new ProcessBuilder("mkfifo", agent.resolve("pipe").toString()).start();
        assertThat(p.waitFor()).isZero();
        assertRefused(() -> files.install("acme", "echo", agent), "\"pipe\" is a device, fifo or socket");
        assertThat(Files.list(dataDir.resolve("agents/acme/echo"))).isEmpty();
        assertRefused(() -> files.install("../x", "echo", agent), "tenant");
    }

    @Test
    void installCapsTheNumberOfFiles() throws IOException {
        Path many = Files.createDirectories(tmp.resolve("many"));
        for (int i = 0; i <= FileAgentFiles.CODE_MAX_ENTRIES; i++) Files.createFile(many.resolve("f" + i));
        assertRefused(() -> files.install("acme", "many", many), "more than 10000 files and folders");
        assertThat(Files.list(dataDir.resolve("agents/acme/many"))).isEmpty();
    }

    @Test
    void aLinkedManifestIsRefusedAndDeleteStaysInTheDataFolder() throws IOException {
        Path linked = Files.createDirectories(tmp.resolve("linked"));
        Files.createSymbolicLink(linked.resolve("agent.yaml"), agent.resolve("agent.yaml"));
        assertThatThrownBy(() -> files.readManifest(linked)).hasMessageContaining("not a regular file");
        assertThatThrownBy(() -> files.delete(agent)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> files.delete(dataDir.resolve("agents/../../echo"))).isInstanceOf(IllegalArgumentException.class);
        assertThat(agent.resolve("agent.yaml")).exists();
    }

    @Test
    void aValidArchiveUnpacksAndInstallsLikeItsFolder() throws IOException {
        byte[] tgz = tarGz(t -> {
            dir(t, "./");
            file(t, "./agent.yaml", StoreContract.ECHO_YAML, 0644);
            file(t, "./run.sh", "#!/bin/sh\ncat\n", 0755);
            dir(t, "./lib/");
            dir(t, "./lib/empty/");
            file(t, "./lib/util.py", "x = 1\n", 0644);
        });
        Path staged = files.unpack(new ByteArrayInputStream(tgz), 1 << 20);
        assertThat(staged.getParent()).isEqualTo(dataDir.resolve("staging"));
        assertThat(files.readManifest(staged)).isEqualTo(StoreContract.ECHO_YAML);
        assertThat(files.install("acme", "echo", staged)).isEqualTo(files.install("acme", "echo", agent));
        files.delete(staged);
        assertThat(staged).doesNotExist();
    }

    @Test
    void dangerousArchivesAreRefusedAndLeaveNothingBehind() throws IOException {
        assertUnpackRefused(tarGz(t -> file(t, "../x", "evil", 0644)), "\"../x\" contains \"..\"");
        assertUnpackRefused(tarGz(t -> file(t, "a/../../x", "evil", 0644)), "contains \"..\"");
        assertUnpackRefused(tarGz(t -> file(t, "/etc/cron.d/x", "evil", 0644)), "\"/etc/cron.d/x\" is an absolute path");
        assertUnpackRefused(tarGz(t -> link(t, "ok.txt", TarConstants.LF_SYMLINK, "/etc/passwd")), "\"ok.txt\" is a symlink");
        assertUnpackRefused(tarGz(t -> link(t, "h", TarConstants.LF_LINK, "agent.yaml")), "\"h\" is a hard link");
        assertUnpackRefused(tarGz(t -> link(t, "dev", TarConstants.LF_CHR, "")), "\"dev\" is a device");
        assertUnpackRefused(tarGz(t -> link(t, "p", TarConstants.LF_FIFO, "")), "\"p\" is a fifo");
        assertUnpackRefused(tarGz(t -> file(t, "big", "y".repeat(2000), 0644)), "more than 1000 bytes");
        assertUnpackRefused(tarGz(t -> {
            file(t, "a", "y".repeat(600), 0644);
            file(t, "b", "y".repeat(600), 0644);
        }), "more than 1000 bytes");
        assertUnpackRefused(tarGz(t -> {
            file(t, "a", "1", 0644);
            file(t, "a", "2", 0644);
        }), "\"a\" appears twice");
        assertUnpackRefused("not a tarball".getBytes(StandardCharsets.UTF_8), "not a readable tar.gz");
    }

    private void assertUnpackRefused(byte[] tgz, String message) {
        assertRefused(() -> files.unpack(new ByteArrayInputStream(tgz), 1000), message);
        Path staging = dataDir.resolve("staging");
        if (Files.exists(staging)) assertThat(staging).isEmptyDirectory();
        assertThat(tmp.resolve("x")).doesNotExist();
    }

    private static void assertRefused(Runnable r, String message) {
        assertThatThrownBy(r::run).isInstanceOf(AegisException.class).hasMessageContaining(message)
                .satisfies(e -> assertThat(((AegisException) e).code()).isEqualTo("invalid_request"));
    }

    private static String mode(Path p) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
    }

    interface Entries {
        void write(TarArchiveOutputStream t) throws IOException;
    }

    private static byte[] tarGz(Entries entries) throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream t = new TarArchiveOutputStream(new GzipCompressorOutputStream(bytes))) {
            t.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            entries.write(t);
        }
        return bytes.toByteArray();
    }

    private static void file(TarArchiveOutputStream t, String name, String content, int mode) throws IOException {
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        TarArchiveEntry e = new TarArchiveEntry(name, true); // true: keep a leading "/" so the reader sees it
        e.setSize(data.length);
        e.setMode(mode);
        t.putArchiveEntry(e);
        t.write(data);
        t.closeArchiveEntry();
    }

    private static void dir(TarArchiveOutputStream t, String name) throws IOException {
        t.putArchiveEntry(new TarArchiveEntry(name));
        t.closeArchiveEntry();
    }

    private static void link(TarArchiveOutputStream t, String name, byte type, String target) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, type);
        e.setLinkName(target);
        t.putArchiveEntry(e);
        t.closeArchiveEntry();
    }
}
