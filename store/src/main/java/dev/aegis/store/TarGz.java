package dev.aegis.store;

import dev.aegis.core.AegisException;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.compressors.gzip.GzipCompressorInputStream;

/**
 * Extracts an uploaded tar.gz, trusting nothing in it: names are checked before any file is created, only
 * folders and regular files are written, and the bytes actually written are counted (not the sizes the
 * headers claim) so a small archive cannot expand past the limit. Permissions other than the owner's
 * execute bit are ignored.
 */
final class TarGz {
    private TarGz() {}

    static void extract(InputStream tarGz, Path dir, long maxBytes, int maxEntries) throws IOException {
        long total = 0;
        int entries = 0;
        byte[] buf = new byte[64 * 1024];
        try (TarArchiveInputStream tar = open(tarGz)) {
            for (TarArchiveEntry e; (e = next(tar)) != null; ) {
                if (e.isGlobalPaxHeader() || e.isPaxHeader()) continue; // metadata (e.g. git archive's commit id), not a file
                String name = e.getName();
                if (++entries > maxEntries) throw CodeTree.refused("the archive has more than " + maxEntries + " entries, the limit");
                Path target = target(dir, name);
                // links and special files first: commons-compress also calls a symlink entry isFile()
                if (e.isSymbolicLink()) throw CodeTree.refused("\"" + name + "\" is a symlink (to \"" + e.getLinkName() + "\"); archives may hold only files and folders");
                if (e.isLink()) throw CodeTree.refused("\"" + name + "\" is a hard link; archives may hold only files and folders");
                if (e.isCharacterDevice() || e.isBlockDevice()) throw CodeTree.refused("\"" + name + "\" is a device; archives may hold only files and folders");
                if (e.isFIFO()) throw CodeTree.refused("\"" + name + "\" is a fifo; archives may hold only files and folders");
                if (e.isDirectory()) {
                    mkdirs(target, name);
                } else if (e.isFile() && !target.equals(dir)) {
                    if (e.getSize() > maxBytes - total) throw tooBig(maxBytes);
                    mkdirs(target.getParent(), name);
                    try (OutputStream out = Files.newOutputStream(target, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                        for (int n; (n = read(tar, buf)) > 0; ) {
                            total += n;
                            if (total > maxBytes) throw tooBig(maxBytes);
                            out.write(buf, 0, n);
                        }
                    } catch (FileAlreadyExistsException dup) {
                        throw CodeTree.refused("\"" + name + "\" appears twice in the archive");
                    }
                    boolean exec = (e.getMode() & 0100) != 0;
                    Files.setPosixFilePermissions(target, PosixFilePermissions.fromString(exec ? "rwx------" : "rw-------"));
                } else {
                    throw CodeTree.refused("\"" + name + "\" has an unsupported entry type '" + (char) e.getLinkFlag() + "'");
                }
            }
        }
    }

    /** Where an entry goes; absolute names and {@code ..} are refused outright rather than rewritten. */
    private static Path target(Path dir, String name) {
        if (name.isEmpty() || name.indexOf('\0') >= 0) throw CodeTree.refused("an entry has an empty or binary name");
        if (name.startsWith("/")) throw CodeTree.refused("\"" + name + "\" is an absolute path; entries must be relative");
        for (String part : name.split("/"))
            if (part.equals("..")) throw CodeTree.refused("\"" + name + "\" contains \"..\"; entries must stay inside the archive");
        Path target = dir.resolve(name).normalize();
        if (!target.startsWith(dir)) throw CodeTree.refused("\"" + name + "\" points outside the archive");
        return target;
    }

    private static void mkdirs(Path dir, String name) throws IOException {
        try {
            Files.createDirectories(dir);
        } catch (FileAlreadyExistsException e) {
            throw CodeTree.refused("\"" + name + "\" needs a folder where the archive already put a file");
        }
    }

    private static AegisException tooBig(long maxBytes) {
        return CodeTree.refused("the archive unpacks to more than " + maxBytes + " bytes, the limit");
    }

    private static TarArchiveInputStream open(InputStream tarGz) {
        try {
            return new TarArchiveInputStream(new GzipCompressorInputStream(new BufferedInputStream(tarGz)));
        } catch (IOException e) {
            throw unreadable(e);
        }
    }

    // Read errors mean a broken upload (the client's fault); write errors stay IOExceptions (the server's).
    private static TarArchiveEntry next(TarArchiveInputStream tar) {
        try {
            return tar.getNextEntry();
        } catch (IOException | RuntimeException e) {
            throw unreadable(e);
        }
    }

    private static int read(TarArchiveInputStream tar, byte[] buf) {
        try {
            return tar.read(buf);
        } catch (IOException | RuntimeException e) {
            throw unreadable(e);
        }
    }

    private static AegisException unreadable(Exception e) {
        return CodeTree.refused("the upload is not a readable tar.gz archive (" + e.getMessage() + ")");
    }
}
