package dev.aegis.audit;

import dev.aegis.core.AuditRecord;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;

/** Walks the records of all segments in file order, from a given seq, decoding each line. */
final class LogScan {
    /** What one line turned out to be. */
    sealed interface Item permits Good, Bad {}

    /** A decoded record line in canonical form. */
    record Good(AuditRecord record) implements Item {}

    /** A line that is not a record: {@code where} names file and byte offset. */
    record Bad(String where, String why) implements Item {}

    @FunctionalInterface
    interface Visitor {
        /** Returns false to stop the walk. */
        boolean visit(Item item);
    }

    private LogScan() {}

    /**
     * Visits every line from the first whose seq is {@code >= fromSeq} up to {@code untilSeq}. Lines before the
     * start are skipped by their seq prefix only, so a damaged one there is not reported; after the start every
     * line is reported, which lets a verifier name the seq it expected where a line is unreadable.
     */
    static void walk(Segments segments, long fromSeq, long untilSeq, Visitor v) {
        boolean started = false;
        for (Segments.Segment s : segments.from(fromSeq)) {
            try (InputStream in = s.open()) {
                LineReader r = new LineReader(in);
                while (r.next()) {
                    // A line without its newline is at the end of a file: a write in flight, or torn by a crash
                    // and cut at the next open. Either way it was never acknowledged, so it is not a record yet.
                    if (!r.complete()) continue;
                    long peek = r.peekSeq();
                    if (!started && peek < fromSeq) continue;
                    started = true;
                    if (peek > untilSeq) return;
                    if (!v.visit(decode(s, r))) return;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read audit segment " + s.file() + ": " + e.getMessage(), e);
            }
        }
    }

    static Item decode(Segments.Segment s, LineReader r) {
        return decode(s, r.buf(), r.off(), r.len(), r.offset());
    }

    /** Line {@code buf[off, off+len)}, found at byte {@code fileOffset} of segment {@code s}. */
    static Item decode(Segments.Segment s, byte[] buf, int off, int len, long fileOffset) {
        String where = s.file().getFileName() + " at byte " + fileOffset;
        try {
            if (LineCodec.decode(buf, off, len) instanceof LineCodec.RecordLine(AuditRecord rec)) {
                return new Good(rec);
            }
            return new Bad(where, "a checkpoint line inside a segment (checkpoints belong in checkpoints.log)");
        } catch (RuntimeException e) {
            return new Bad(where, e.getMessage());
        }
    }
}
