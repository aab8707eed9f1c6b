package dev.aegis.runtime.docker;

import dev.aegis.core.InstanceId;
import dev.aegis.core.RuntimeFailure;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The host folder of one instance, {@code <stateDir>/<id>/}, holding the two files bound into {@code /run/aegis}:
 * {@code task.json} (read-only in the container) and {@code result.json}.
 * <p>
 * Docker does not map users: the container's uid 1000 is the host's uid 1000. So the files belong to 1000:1000
 * (we run as root, which Docker's socket needs anyway), and the folder is 0700 so no other host user reaches them.
 * When chown is not allowed the files fall back to 0666, still only reachable through the 0700 folder.
 */
record InstanceFolder(Path dir) {
    /** Marks a folder as ours, so {@code reclaim()} never deletes anything else someone put under the state dir. */
    static final String MARKER = ".aegis-instance";
    static final int AGENT_UID = 1000;
    private static final FileAttribute<?> DIR_MODE = PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------"));

    /** Text read with a cap. */
    record Capped(String text, boolean truncated) {}

    static InstanceFolder create(Path stateDir, InstanceId id) {
        Path dir = stateDir.resolve(id.value());
        try {
            Files.createDirectories(stateDir);
            Files.createDirectory(dir, DIR_MODE);
        } catch (FileAlreadyExistsException e) {
            throw new RuntimeFailure("instance " + id + " already exists in " + stateDir + ": spawn needs a fresh id");
        } catch (IOException e) {
            throw new RuntimeFailure("cannot create instance folder " + dir + ": " + e + " (the state dir must be writable)", e);
        }
        InstanceFolder folder = new InstanceFolder(dir);
        try {
            Files.createFile(folder.file(MARKER));
            for (String name : new String[] {"task.json", "result.json"}) folder.giveToAgent(Files.createFile(folder.file(name)));
            return folder;
        } catch (IOException | RuntimeException e) {
            folder.delete();
            throw new RuntimeFailure("cannot write instance folder " + dir + ": " + e, e);
        }
    }

    Path file(String name) {
        return dir.resolve(name);
    }

    /** Overwrites task.json in place: it is bind-mounted, so replacing the inode would hide the new content. */
    void writeTask(String json) throws IOException {
        Files.writeString(file("task.json"), json, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    }

    /** Reads result.json without following links, capped at {@code max} bytes. */
    Capped readResult(long max) throws IOException {
        Path p = file("result.json");
        if (!Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)) return new Capped("", false);
        try (InputStream in = Channels.newInputStream(Files.newByteChannel(p, Set.of(StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS)))) {
            byte[] bytes = in.readNBytes((int) Math.min(max + 1, Integer.MAX_VALUE - 8));
            boolean truncated = bytes.length > max;
            return new Capped(new String(bytes, 0, truncated ? (int) max : bytes.length, StandardCharsets.UTF_8), truncated);
        }
    }

    void delete() {
        delete(dir);
    }

    /** Deletes a folder; links inside are removed, never followed. */
    static void delete(Path dir) {
        try (Stream<Path> all = Files.walk(dir)) {
            for (Path p : all.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (NoSuchFileException e) {
            // already gone
        } catch (IOException e) {
            throw new RuntimeFailure("cannot delete instance folder " + dir + ": " + e, e);
        }
    }

    private void giveToAgent(Path p) throws IOException {
        try {
            Files.setAttribute(p, "unix:uid", AGENT_UID);
            Files.setAttribute(p, "unix:gid", AGENT_UID);
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | SecurityException | UnsupportedOperationException e) {
            Files.setPosixFilePermissions(p, PosixFilePermissions.fromString("rw-rw-rw-"));
        }
    }
}
