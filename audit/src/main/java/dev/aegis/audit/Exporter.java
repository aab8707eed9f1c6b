package dev.aegis.audit;

import dev.aegis.core.AuditCheckpoint;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.List;

/**
 * Writes the JSON Lines export: records in order, each checkpoint right after its last record. It starts at
 * the checkpoint interval holding {@code fromSeq}, so every Merkle root in it can be recomputed from it alone.
 */
final class Exporter {
    private Exporter() {}

    static void export(Segments segments, List<AuditCheckpoint> cps, long fromSeq, long untilSeq, OutputStream out) {
        int idx = 0;
        while (idx < cps.size() && cps.get(idx).toSeq() < fromSeq) idx++;
        long start = idx == 0 ? 1 : cps.get(idx - 1).toSeq() + 1;
        int[] next = {idx};
        IOException[] failed = {null};
        LogScan.walk(segments, start, untilSeq, item -> {
            if (!(item instanceof LogScan.Good g)) return true; // verification, not export, reports damage
            try {
                out.write(LineCodec.encode(g.record()));
                while (next[0] < cps.size() && cps.get(next[0]).toSeq() <= g.record().seq()) {
                    out.write(LineCodec.encode(cps.get(next[0]++)));
                }
                return true;
            } catch (IOException e) {
                failed[0] = e;
                return false;
            }
        });
        try {
            if (failed[0] != null) throw failed[0];
            out.flush();
        } catch (IOException e) {
            throw new UncheckedIOException("audit export failed: " + e.getMessage(), e);
        }
    }
}
