package dev.aegis.store;

import dev.aegis.core.AegisException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFileAttributes;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** Folder trees of agent code: a checked copy, a digest, read-only marking and deletion. Links are never followed. */
final class CodeTree {
    private static final LinkOption NOFOLLOW = LinkOption.NOFOLLOW_LINKS;

    private CodeTree() {}

    static AegisException refused(String message) {
        return new AegisException("invalid_request", "code: " + message, "code");
    }

    /** Copies regular files and folders; anything else, or too much, is refused with the offending path. */
    static void copy(Path source, Path target) throws IOException {
        Files.walkFileTree(source, new SimpleFileVisitor<>() {
            private int entries;
            private long bytes;

            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes a) throws IOException {
                if (!dir.equals(source)) {
                    count(dir);
                    Files.createDirectory(target.resolve(source.relativize(dir).toString()));
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes a) throws IOException {
                String rel = source.relativize(file).toString();
                if (a.isSymbolicLink()) throw refused("\"" + rel + "\" is a symlink; only regular files and folders are deployed");
                if (!a.isRegularFile()) throw refused("\"" + rel + "\" is a device, fifo or socket; only regular files and folders are deployed");
                count(file);
                bytes += a.size();
                if (bytes > FileAgentFiles.CODE_MAX_BYTES)
                    throw refused("the files add up to more than " + FileAgentFiles.CODE_MAX_BYTES + " bytes (64 MiB), the limit");
                Path copy = target.resolve(rel);
                Files.copy(file, copy, NOFOLLOW);
                boolean exec = Files.getPosixFilePermissions(file, NOFOLLOW).contains(PosixFilePermission.OWNER_EXECUTE);
                Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString(exec ? "rwx------" : "rw-------"));
                return FileVisitResult.CONTINUE;
            }

            private void count(Path p) {
                if (++entries > FileAgentFiles.CODE_MAX_ENTRIES)
                    throw refused("more than " + FileAgentFiles.CODE_MAX_ENTRIES + " files and folders, the limit");
            }
        });
    }

    /**
     * SHA-256 over every entry in order of relative path: its kind (d folder, f file, x executable file), path,
     * size and content, separated so that no two different trees hash alike. Files are fsync'd on the way,
     * so the tree is on disk before it is renamed into place.
     */
    static String digest(Path root) throws IOException {
        MessageDigest sha = sha256();
        List<Path> entries;
        try (Stream<Path> s = Files.walk(root)) {
            entries = s.filter(p -> !p.equals(root)).sorted(Comparator.comparing(p -> root.relativize(p).toString())).toList();
        }
        byte[] buf = new byte[64 * 1024];
        for (Path p : entries) {
            String rel = root.relativize(p).toString();
            PosixFileAttributes a = Files.readAttributes(p, PosixFileAttributes.class, NOFOLLOW);
            if (a.isDirectory()) {
                sha.update(("d\0" + rel + "\0").getBytes(StandardCharsets.UTF_8));
            } else if (a.isRegularFile()) {
                String kind = a.permissions().contains(PosixFilePermission.OWNER_EXECUTE) ? "x" : "f";
                sha.update((kind + "\0" + rel + "\0" + a.size() + "\0").getBytes(StandardCharsets.UTF_8));
                try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ); InputStream in = Channels.newInputStream(ch)) {
                    for (int n; (n = in.read(buf)) > 0; ) sha.update(buf, 0, n);
                    ch.force(true);
                }
            } else {
                throw refused("\"" + rel + "\" is not a regular file or folder");
            }
        }
        return HexFormat.of().formatHex(sha.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    /** Files 0444 (0555 when executable), folders 0555; children first, or the folders would lock us out. */
    static void makeReadOnly(Path root) throws IOException {
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes a) throws IOException {
                boolean exec = Files.getPosixFilePermissions(file, NOFOLLOW).contains(PosixFilePermission.OWNER_EXECUTE);
                Files.setPosixFilePermissions(file, PosixFilePermissions.fromString(exec ? "r-xr-xr-x" : "r--r--r--"));
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                if (e != null) throw e;
                Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-xr-xr-x"));
                return FileVisitResult.CONTINUE;
            }
        });
    }

    /** Makes a rename in {@code dir} survive a power loss. */
    static void fsyncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    /** Deletes a tree, giving folders their write bit back first (installed trees are read-only); a link is removed, not followed. */
    static void delete(Path root) {
        if (!Files.exists(root, NOFOLLOW)) return;
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes a) throws IOException {
                    Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes a) throws IOException {
                    Files.deleteIfExists(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException e) throws IOException {
                    if (e instanceof NoSuchFileException) return FileVisitResult.CONTINUE;
                    throw e;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    if (e != null) throw e;
                    Files.deleteIfExists(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("deleting " + root, e);
        }
    }
}
