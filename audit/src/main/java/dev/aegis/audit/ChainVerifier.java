package dev.aegis.audit;

import dev.aegis.core.AuditCheckpoint;
import dev.aegis.core.AuditLog;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.AuditVerification;
import dev.aegis.core.AuditVerification.Broken;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The verification algorithm of docs/audit.md as a state machine fed records and checkpoints in log order
 * (checkpoint after its last record). Each feed returns the first problem found, naming the first record that
 * cannot be trusted, or null. Shared by the live log and by exported files, so both check the same things.
 */
final class ChainVerifier {
    private static final int PROGRESS_EVERY = 1 << 16;
    private final PublicKey key;
    private final AuditLog.Progress progress;
    private final long lastSeqHint;
    private final long startSeq;
    private long expected;
    private byte[] prev;
    private long intervalFrom;
    private final Hashes hashes = new Hashes(); // record hashes since the last checkpoint
    private final Hashes leaves = new Hashes(); // and their Merkle leaves
    private long records;
    private long checkpoints;
    private long lastSigned;

    /** {@code anchor} is the trusted hash of record {@code startSeq - 1}; null takes the first record's prev on trust. */
    ChainVerifier(long startSeq, byte[] anchor, PublicKey key, AuditLog.Progress progress, long lastSeqHint) {
        this.startSeq = startSeq;
        this.expected = startSeq;
        this.intervalFrom = startSeq;
        this.prev = anchor;
        this.key = key;
        this.progress = progress;
        this.lastSeqHint = lastSeqHint;
        this.lastSigned = startSeq - 1;
    }

    byte[] lastHash() {
        return prev;
    }

    /** Hashes of the records after the last checkpoint fed, oldest first. */
    List<byte[]> pendingLeaves() {
        List<byte[]> out = new ArrayList<>(hashes.n);
        for (int i = 0; i < hashes.n; i++) out.add(Arrays.copyOfRange(hashes.a, 32 * i, 32 * i + 32));
        return out;
    }

    long lastSeq() {
        return expected - 1;
    }

    Broken record(LogScan.Item item) {
        if (item instanceof LogScan.Bad(String where, String why)) {
            return new Broken(expected, "record " + expected + " is unreadable (" + where + ": " + why + ")");
        }
        AuditRecord r = ((LogScan.Good) item).record();
        if (r.seq() != expected) {
            return new Broken(expected, "record " + expected + " is missing: found seq " + r.seq() + " where "
                    + expected + " belongs (deleted, or records swapped)");
        }
        byte[] hash = Canonical.recordHash(r.seq(), Canonical.time(r.time()), r.event(), Canonical.HEX.parseHex(r.prevHash()));
        String hex = Canonical.HEX.formatHex(hash);
        if (!hex.equals(r.hash())) {
            return new Broken(r.seq(), "record " + r.seq() + " was edited: its content hashes to " + hex
                    + " but it says " + r.hash());
        }
        if (prev == null) prev = Canonical.HEX.parseHex(r.prevHash());
        if (!Arrays.equals(Canonical.HEX.parseHex(r.prevHash()), prev)) {
            return new Broken(r.seq(), "record " + r.seq() + " does not chain: its prev is " + r.prevHash()
                    + " but record " + (r.seq() - 1) + " hashes to " + Canonical.HEX.formatHex(prev));
        }
        prev = hash;
        hashes.add(hash, 0);
        leaves.add(MerkleTree.leaf(hash), 0);
        expected++;
        if (++records % PROGRESS_EVERY == 0) progress.checked(r.seq(), lastSeqHint);
        return null;
    }

    /**
     * A record checked by {@link FastRecord} (canonical, and its content hashes to {@code hash}): takes it when
     * it is the next seq and chains on, returning true. Otherwise returns false and changes nothing; the caller
     * then feeds the decoded line to {@link #record}, which names the problem.
     */
    boolean recordFast(long seq, byte[] prevIn, byte[] hashIn, byte[] leafIn, int at) {
        if (seq != expected) return false;
        if (prev != null && !Arrays.equals(prevIn, at, at + 32, prev, 0, 32)) return false;
        prev = Arrays.copyOfRange(hashIn, at, at + 32); // a fresh array: prev may be a caller's anchor
        hashes.add(hashIn, at);
        leaves.add(leafIn, at);
        expected++;
        if (++records % PROGRESS_EVERY == 0) progress.checked(seq, lastSeqHint);
        return true;
    }

    Broken checkpoint(AuditCheckpoint c) {
        return checkpoint(c, () -> SigningKey.verify(key, Canonical.checkpointMessage(c), c.signature()));
    }

    /** As {@link #checkpoint(AuditCheckpoint)}, with the signature check given (it may have run in parallel). */
    Broken checkpoint(AuditCheckpoint c, java.util.function.BooleanSupplier signatureValid) {
        String range = "checkpoint " + c.fromSeq() + ".." + c.toSeq();
        if (c.fromSeq() != intervalFrom || c.toSeq() != expected - 1) {
            long bad = Math.min(Math.max(c.fromSeq(), startSeq), expected);
            return new Broken(bad, range + " does not fit the log here (expected one starting at " + intervalFrom
                    + " and ending at " + (expected - 1) + "): records or checkpoints were removed or reordered");
        }
        if (!signatureValid.getAsBoolean()) {
            return new Broken(c.fromSeq(), range + " has a bad signature: it was forged or edited, or signed by "
                    + "another key than the one given");
        }
        if (prev == null || !c.headHash().equals(Canonical.HEX.formatHex(prev))) {
            return new Broken(c.fromSeq(), "records " + range.substring(11) + " do not match their signed head: "
                    + "the chain was rewritten");
        }
        if (!c.merkleRoot().equals(Canonical.HEX.formatHex(MerkleTree.rootOfLeaves(leaves.a, leaves.n)))) {
            return new Broken(c.fromSeq(), "records " + range.substring(11) + " do not match their signed Merkle root");
        }
        hashes.n = 0;
        leaves.n = 0;
        intervalFrom = c.toSeq() + 1;
        checkpoints++;
        lastSigned = c.toSeq();
        return null;
    }

    /** A checkpoint names records the log no longer has: the tail was cut. */
    Broken missingTail(AuditCheckpoint c) {
        return new Broken(expected, "records " + expected + ".." + c.toSeq() + " are missing: the log ends at "
                + (expected - 1) + " but checkpoint " + c.fromSeq() + ".." + c.toSeq() + " signed them (tail cut off)");
    }

    AuditVerification.Intact finish() {
        progress.checked(expected - 1, lastSeqHint);
        return new AuditVerification.Intact(startSeq, expected - 1, records, checkpoints, lastSigned);
    }

    /** 32-byte hashes back to back. */
    private static final class Hashes {
        byte[] a = new byte[32 * 1024];
        int n;

        void add(byte[] from, int at) {
            if (32 * (n + 1) > a.length) a = Arrays.copyOf(a, a.length * 2);
            System.arraycopy(from, at, a, 32 * n++, 32);
        }
    }
}
