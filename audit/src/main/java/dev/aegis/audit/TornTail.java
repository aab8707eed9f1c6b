package dev.aegis.audit;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Optional;

/**
 * Repairs the end of an append-only file after a crash. The writer issues one write per batch and the next only
 * after fsync, so at most the last batch ({@link #MAX_BATCH_BYTES}) can be partly on disk, and none of its
 * records was acknowledged. Everything from the first unreadable line to the end is that batch: it is copied
 * to {@code <file>.torn-<millis>} for inspection, then cut off, so the next append starts on a clean line and
 * is never merged into a half-written one. Anything longer, or reaching back into a checkpointed record, is
 * damage rather than a crash and is refused.
 */
final class TornTail {
    static final int MAX_BATCH_BYTES = 1 << 20;
    private static final System.Logger LOG = System.getLogger(TornTail.class.getName());

    private TornTail() {}

    /**
     * Truncates the torn tail of {@code file}, if any. {@code lastSigned} is the highest seq covered by a
     * checkpoint (0 for none): a cut that would remove a line at or before it is refused.
     *
     * @return the last good line that remains
     */
    static Optional<LineCodec.Line> repair(Path file, long lastSigned) throws IOException {
        LineCodec.Line lastGood = null;
        long badAt = -1;
        String why = "";
        try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file), 1 << 16)) {
            LineReader r = new LineReader(in);
            while (r.next()) {
                try {
                    if (!r.complete()) throw new IllegalArgumentException("no newline at the end");
                    LineCodec.Line line = LineCodec.decode(r.buf(), r.off(), r.len());
                    if (badAt < 0) lastGood = line;
                } catch (RuntimeException e) {
                    if (badAt < 0) {
                        badAt = r.offset();
                        why = e.getMessage();
                    }
                }
            }
        }
        if (badAt < 0) return Optional.ofNullable(lastGood);
        long size = Files.size(file);
        long lastSeq = lastGood == null ? 0 : seqOf(lastGood);
        if (size - badAt > MAX_BATCH_BYTES || lastSeq < lastSigned) {
            throw AuditException.damaged(file + " is unreadable from byte " + badAt + " (" + why + ") after seq "
                    + lastSeq + ", and that is not a write cut short by a crash (" + (size - badAt)
                    + " bytes, signed up to seq " + lastSigned + "). Run `aegis audit verify`, then move the damaged "
                    + "file aside and restore it from a backup or an export");
        }
        Path aside = file.resolveSibling(file.getFileName() + ".torn-" + System.currentTimeMillis());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE);
             FileChannel out = FileChannel.open(aside, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ch.transferTo(badAt, size - badAt, out);
            out.force(true);
            ch.truncate(badAt);
            ch.force(true);
        }
        LOG.log(System.Logger.Level.WARNING, "audit: cut a torn write of {0} bytes after seq {1} from {2} ({3}); "
                + "the bytes are kept in {4}", size - badAt, lastSeq, file, why, aside);
        return Optional.ofNullable(lastGood);
    }

    static long seqOf(LineCodec.Line line) {
        return switch (line) {
            case LineCodec.RecordLine r -> r.record().seq();
            case LineCodec.CheckpointLine c -> c.checkpoint().toSeq();
        };
    }
}
