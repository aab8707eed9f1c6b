package dev.aegis.audit;

import dev.aegis.core.AuditCheckpoint;
import dev.aegis.core.AuditLog;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.AuditVerification.Broken;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Brings the files to a state the writer can extend after any stop, clean or not: cuts a torn tail, then
 * checks the records after the last checkpoint chain onto its signed head. A log that fails that check is
 * refused rather than extended, so damage is never buried under new records.
 */
final class Recovery {
    private Recovery() {}

    record Result(ChainHead head, FileChannel segment) {}

    static Result recover(Segments segments, Checkpoints checkpoints, SigningKey key) throws IOException {
        Optional<AuditCheckpoint> lastCp = checkpoints.last();
        long signedTo = lastCp.map(AuditCheckpoint::toSeq).orElse(0L);
        List<Segments.Segment> all = segments.all();
        if (!all.isEmpty() && !all.getLast().archived()) TornTail.repair(all.getLast().file(), signedTo);

        if (lastCp.isPresent()) {
            AuditCheckpoint c = lastCp.get();
            if (!SigningKey.verify(key.publicKey(), Canonical.checkpointMessage(c), c.signature())) {
                throw refuse(new Broken(c.fromSeq(), "the last checkpoint " + c.fromSeq() + ".." + c.toSeq()
                        + " does not verify with this folder's key"));
            }
            Optional<AuditRecord> signed = recordAt(segments, c.toSeq());
            if (signed.isEmpty() || !signed.get().hash().equals(c.headHash())) {
                throw refuse(new Broken(c.toSeq(), "record " + c.toSeq() + " is " + (signed.isEmpty() ? "missing" : "changed")
                        + " although checkpoint " + c.fromSeq() + ".." + c.toSeq() + " signed it"));
            }
        }
        byte[] anchor = lastCp.map(c -> Canonical.HEX.parseHex(c.headHash())).orElse(Canonical.ZERO_HASH);
        ChainVerifier v = new ChainVerifier(signedTo + 1, anchor, key.publicKey(), AuditLog.Progress.NONE, 0);
        Instant[] lastTime = {lastCp.map(AuditCheckpoint::time).orElse(Instant.EPOCH)};
        Broken[] broken = {null};
        LogScan.walk(segments, signedTo + 1, Long.MAX_VALUE, item -> {
            broken[0] = v.record(item);
            if (item instanceof LogScan.Good g) lastTime[0] = g.record().time();
            return broken[0] == null;
        });
        if (broken[0] != null) throw refuse(broken[0]);

        ChainHead head = new ChainHead(v.lastSeq(), v.lastHash(), lastTime[0], signedTo + 1, v.pendingLeaves());
        List<Segments.Segment> now = segments.all();
        FileChannel ch = !now.isEmpty() && !now.getLast().archived()
                ? FileChannel.open(now.getLast().file(), StandardOpenOption.WRITE, StandardOpenOption.APPEND)
                : segments.create(v.lastSeq() + 1);
        return new Result(head, ch);
    }

    static Optional<AuditRecord> recordAt(Segments segments, long seq) {
        Optional<AuditRecord>[] found = new Optional[] {Optional.empty()};
        LogScan.walk(segments, seq, seq, item -> {
            if (item instanceof LogScan.Good g && g.record().seq() == seq) found[0] = Optional.of(g.record());
            return false;
        });
        return found[0];
    }

    private static AuditException refuse(Broken b) {
        return AuditException.damaged("the audit log cannot be extended: " + b.problem() + " (first bad record: seq "
                + b.firstBadSeq() + "). Run `aegis audit verify` for a full report, then restore the segment from "
                + "a backup or an export; AEGIS will not append to a damaged chain");
    }
}
