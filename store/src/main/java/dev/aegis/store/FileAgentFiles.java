package dev.aegis.store;

import dev.aegis.core.AegisException;
import dev.aegis.core.AgentFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.regex.Pattern;

/**
 * Agent code on the local disk. Installed copies live under {@code <dataDir>/agents/<tenant>/<name>/<digest12>/},
 * are read-only and never change: a new version gets a new folder, the same files get the same folder.
 * Uploads are unpacked under {@code <dataDir>/staging/}.
 */
public final class FileAgentFiles implements AgentFiles {
    static final int MANIFEST_MAX_BYTES = 64 * 1024;
    static final long CODE_MAX_BYTES = 64L * 1024 * 1024;
    static final int CODE_MAX_ENTRIES = 10_000;
    // tenant and name become folder names: nothing that could climb out or hide
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");

    private final Path dataDir;
    private final Path agentsDir;
    private final Path stagingDir;

    public FileAgentFiles(Path dataDir) {
        this.dataDir = dataDir.toAbsolutePath().normalize();
        this.agentsDir = this.dataDir.resolve("agents");
        this.stagingDir = this.dataDir.resolve("staging");
    }

    @Override
    public String readManifest(Path folder) {
        Path file = folder.resolve("agent.yaml");
        BasicFileAttributes a;
        try {
            a = Files.readAttributes(file, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            throw manifest(folder + ": no agent.yaml found; an agent folder needs one");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (!a.isRegularFile()) throw manifest(file + " is not a regular file (links are not followed)");
        if (a.size() > MANIFEST_MAX_BYTES)
            throw manifest(file + " is " + a.size() + " bytes; the limit is " + MANIFEST_MAX_BYTES + " (64 KiB)");
        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
            byte[] bytes = in.readNBytes(MANIFEST_MAX_BYTES + 1); // the file may grow after the size check
            if (bytes.length > MANIFEST_MAX_BYTES) throw manifest(file + " is over the 64 KiB limit");
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw manifest(file + " is not UTF-8 text");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static AegisException manifest(String message) {
        return new AegisException("invalid_manifest", message, "agent.yaml");
    }

    /**
     * Copies into a private temporary folder first, hashes that copy (so what is hashed is what runs, whatever
     * happens to the source meanwhile), then renames it into place in one step.
     */
    @Override
    public Installed install(String tenant, String name, Path folder) {
        Path home = agentsDir.resolve(segment("tenant", tenant)).resolve(segment("name", name));
        Path temp = null;
        try {
            Files.createDirectories(home);
            temp = Files.createTempDirectory(home, ".install-");
            CodeTree.copy(folder.toRealPath(), temp);
            String digest = CodeTree.digest(temp);
            // 12 hex digits name the folder; the folder is per tenant and agent, so a clash needs ~2^24 versions of one agent
            Path target = home.resolve(digest.substring(0, 12));
            if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) {
                CodeTree.makeReadOnly(temp);
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                    CodeTree.fsyncDir(home);
                } catch (FileSystemException raced) {
                    // another install of the same files renamed first; theirs is identical
                    if (!Files.isDirectory(target, LinkOption.NOFOLLOW_LINKS)) throw raced;
                }
            }
            return new Installed(target, digest);
        } catch (IOException e) {
            throw new UncheckedIOException("installing " + folder + " for " + tenant + "/" + name, e);
        } finally {
            if (temp != null) CodeTree.delete(temp);
        }
    }

    private static String segment(String what, String value) {
        if (!SEGMENT.matcher(value).matches())
            throw AegisException.invalid(what, "\"" + value + "\" cannot name a folder (use " + SEGMENT.pattern() + ")");
        return value;
    }

    @Override
    public Path unpack(InputStream tarGz, long maxBytes) {
        if (maxBytes <= 0) throw new IllegalArgumentException("maxBytes: " + maxBytes + " must be positive");
        Path dir = null;
        try {
            Files.createDirectories(stagingDir);
            dir = Files.createTempDirectory(stagingDir, "upload-");
            TarGz.extract(tarGz, dir, maxBytes, CODE_MAX_ENTRIES);
            return dir;
        } catch (IOException e) {
            if (dir != null) CodeTree.delete(dir);
            throw new UncheckedIOException("unpacking an upload into " + stagingDir, e);
        } catch (RuntimeException e) {
            if (dir != null) CodeTree.delete(dir);
            throw e;
        }
    }

    /**
     * Removes what a crash mid-upload or mid-install left behind: every staging folder and every unfinished
     * {@code .install-*} folder. Call at start, before serving.
     *
     * @return how many folders were removed
     */
    public int sweep() {
        int removed = 0;
        try {
            if (Files.isDirectory(stagingDir)) try (var s = Files.list(stagingDir)) {
                for (Path p : s.toList()) {
                    CodeTree.delete(p);
                    removed++;
                }
            }
            if (Files.isDirectory(agentsDir)) try (var s = Files.find(agentsDir, 3, (p, a) -> a.isDirectory()
                    && p.getFileName().toString().startsWith(".install-"))) {
                for (Path p : s.toList()) {
                    CodeTree.delete(p);
                    removed++;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("sweeping leftovers under " + dataDir, e);
        }
        return removed;
    }

    /** Only folders of this data folder can be deleted: a wrong path must not wipe anything else. */
    @Override
    public void delete(Path folder) {
        Path f = folder.toAbsolutePath().normalize();
        if (!f.startsWith(agentsDir) && !f.startsWith(stagingDir) || f.equals(agentsDir) || f.equals(stagingDir))
            throw new IllegalArgumentException("delete: " + folder + " is not an agent or staging folder of " + dataDir);
        CodeTree.delete(f);
    }
}
