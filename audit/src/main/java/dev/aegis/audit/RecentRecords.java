package dev.aegis.audit;

import dev.aegis.core.AuditRecord;
import java.util.ArrayList;
import java.util.List;

/** The newest durable records, kept in memory so that tail subscribers keep up without reading files. */
final class RecentRecords {
    private final GroupCommitWriter.Entry[] ring;
    private long newest; // seq of the newest record held; 0 when none

    RecentRecords(int capacity) {
        ring = new GroupCommitWriter.Entry[capacity];
    }

    synchronized void add(List<GroupCommitWriter.Entry> records) {
        for (GroupCommitWriter.Entry r : records) {
            ring[(int) (r.seq() % ring.length)] = r;
            newest = r.seq();
        }
    }

    /** Records after {@code afterSeq} (at most {@code max}), or null when the ring no longer reaches back that far. */
    List<AuditRecord> after(long afterSeq, int max) {
        List<GroupCommitWriter.Entry> out = new ArrayList<>();
        synchronized (this) {
            if (afterSeq >= newest) return List.of();
            long oldest = Math.max(1, newest - ring.length + 1);
            GroupCommitWriter.Entry first = ring[(int) ((afterSeq + 1) % ring.length)];
            if (afterSeq + 1 < oldest || first == null || first.seq() != afterSeq + 1) return null;
            for (long s = afterSeq + 1; s <= newest && out.size() < max; s++) out.add(ring[(int) (s % ring.length)]);
        }
        List<AuditRecord> records = new ArrayList<>(out.size());
        for (GroupCommitWriter.Entry e : out) records.add(e.record()); // built outside the lock the writer takes
        return records;
    }
}
