package dev.aegis.audit;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * The log's files: {@code segments/<first seq, 20 digits>.log} (live, the newest one open for appends) and
 * {@code archive/<first seq>.log.gz} (closed segments moved and compressed byte for byte, so the chain reads
 * the same). Archiving is crash-safe: the .gz is complete and fsync'd before the live file goes.
 */
final class Segments {
    static final String LIVE = ".log";
    static final String ARCHIVED = ".log.gz";
    private final Path live;
    private final Path archive;

    Segments(Path dir) {
        this.live = dir.resolve("segments");
        this.archive = dir.resolve("archive");
        try {
            Files.createDirectories(live);
            Files.createDirectories(archive);
            cleanUpInterruptedArchiving();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the audit folders under " + dir + ": " + e.getMessage(), e);
        }
    }

    /** A segment file and the seq of its first record. */
    record Segment(long firstSeq, Path file, boolean archived) {
        InputStream open() throws IOException {
            InputStream in = Files.newInputStream(file);
            return archived ? new GZIPInputStream(in, 1 << 16) : new BufferedInputStream(in, 1 << 16);
        }
    }

    /** All segments, archived and live, by first seq. */
    List<Segment> all() {
        TreeMap<Long, Segment> byFirst = new TreeMap<>();
        for (Path p : list(archive, ARCHIVED)) byFirst.put(firstSeq(p, ARCHIVED), new Segment(firstSeq(p, ARCHIVED), p, true));
        for (Path p : list(live, LIVE)) byFirst.put(firstSeq(p, LIVE), new Segment(firstSeq(p, LIVE), p, false));
        return new ArrayList<>(byFirst.values());
    }

    /** Segments that may hold records {@code >= seq}: the one holding seq and all after it. */
    List<Segment> from(long seq) {
        List<Segment> all = all();
        int start = 0;
        for (int i = 0; i < all.size(); i++) if (all.get(i).firstSeq() <= seq) start = i;
        return all.subList(start, all.size());
    }

    Path liveFile(long firstSeq) {
        return live.resolve(String.format("%020d", firstSeq) + LIVE);
    }

    /** Creates an empty live segment and makes its directory entry durable. */
    FileChannel create(long firstSeq) throws IOException {
        FileChannel ch = FileChannel.open(liveFile(firstSeq), StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        fsyncDir(live);
        return ch;
    }

    /** Moves a closed live segment to the archive, gzip-compressed. */
    void archive(Segment s) throws IOException {
        Path gz = archive.resolve(String.format("%020d", s.firstSeq()) + ARCHIVED);
        Path tmp = gz.resolveSibling(gz.getFileName() + ".tmp");
        try (InputStream in = Files.newInputStream(s.file());
             OutputStream out = new GZIPOutputStream(Files.newOutputStream(tmp), 1 << 16)) {
            in.transferTo(out);
        }
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        Files.move(tmp, gz, StandardCopyOption.ATOMIC_MOVE);
        fsyncDir(archive);
        Files.delete(s.file());
        fsyncDir(live);
    }

    private void cleanUpInterruptedArchiving() throws IOException {
        for (Path p : list(archive, ".tmp")) Files.delete(p);
        // Both copies exist when a crash hit between the rename and the delete: the live one is the original.
        for (Path p : list(archive, ARCHIVED)) {
            if (Files.exists(liveFile(firstSeq(p, ARCHIVED)))) Files.delete(p);
        }
    }

    static void fsyncDir(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }

    private static List<Path> list(Path dir, String suffix) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static long firstSeq(Path p, String suffix) {
        String name = p.getFileName().toString();
        try {
            return Long.parseLong(name.substring(0, name.length() - suffix.length()));
        } catch (NumberFormatException e) {
            throw AuditException.damaged(p + " is not an audit segment name (20 digits + " + suffix
                    + "); move it out of " + p.getParent());
        }
    }
}
