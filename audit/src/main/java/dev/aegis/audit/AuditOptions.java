package dev.aegis.audit;

import dev.aegis.core.AegisException;
import java.time.Duration;

/**
 * Tuning of a {@link FileAuditLog}.
 *
 * @param checkpointEvery    sign a checkpoint once this many records are not yet covered
 * @param checkpointInterval ... or once the oldest uncovered record is this old, whichever comes first
 * @param segmentBytes       start a new segment file once the current one reaches this size
 */
public record AuditOptions(int checkpointEvery, Duration checkpointInterval, long segmentBytes) {
    public AuditOptions {
        if (checkpointEvery < 1 || checkpointEvery > 1_000_000) {
            throw AegisException.invalid("checkpointEvery", checkpointEvery + " is out of range (use 1..1000000)");
        }
        if (checkpointInterval.isNegative() || checkpointInterval.isZero()) {
            throw AegisException.invalid("checkpointInterval", checkpointInterval + " must be positive (e.g. 10s)");
        }
        if (segmentBytes < 4096) throw AegisException.invalid("segmentBytes", segmentBytes + " is too small (use >= 4096)");
    }

    /** 1,000 records or 10 seconds per checkpoint; 64 MiB segments. */
    public static AuditOptions defaults() {
        return new AuditOptions(1000, Duration.ofSeconds(10), 64L << 20);
    }

    public AuditOptions withCheckpointEvery(int n) {
        return new AuditOptions(n, checkpointInterval, segmentBytes);
    }

    public AuditOptions withCheckpointInterval(Duration d) {
        return new AuditOptions(checkpointEvery, d, segmentBytes);
    }

    public AuditOptions withSegmentBytes(long bytes) {
        return new AuditOptions(checkpointEvery, checkpointInterval, bytes);
    }
}
