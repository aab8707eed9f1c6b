package dev.aegis.audit;

import java.time.Instant;
import java.util.List;

/**
 * Where the chain stands: the newest record, and the records since the last checkpoint, which the next
 * checkpoint will cover. Found by {@link Recovery} at open and then owned by the writer thread.
 */
record ChainHead(long lastSeq, byte[] lastHash, Instant lastTime, long intervalFrom, List<byte[]> pendingLeaves) {}
