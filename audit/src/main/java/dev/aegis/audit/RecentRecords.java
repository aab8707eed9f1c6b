package dev.aegis.audit;

import dev.aegis.core.AuditRecord;
import java.util.ArrayList;
import java.util.List;

/** The newest durable records, kept in memory so that tail subscribers keep up without reading files. */
final class RecentRecords {
    private final AuditRecord[] ring;
    private long newest; // seq of the newest record held; 0 when none

    RecentRecords(int capacity) {
        ring = new AuditRecord[capacity];
    }

    synchronized void add(List<AuditRecord> records) {
        for (AuditRecord r : records) {
            ring[(int) (r.seq() % ring.length)] = r;
            newest = r.seq();
        }
    }

    /** Records after {@code afterSeq} (at most {@code max}), or null when the ring no longer reaches back that far. */
    synchronized List<AuditRecord> after(long afterSeq, int max) {
        if (afterSeq >= newest) return List.of();
        long oldest = Math.max(1, newest - ring.length + 1);
        AuditRecord first = ring[(int) ((afterSeq + 1) % ring.length)];
        if (afterSeq + 1 < oldest || first == null || first.seq() != afterSeq + 1) return null;
        List<AuditRecord> out = new ArrayList<>();
        for (long s = afterSeq + 1; s <= newest && out.size() < max; s++) out.add(ring[(int) (s % ring.length)]);
        return out;
    }
}
