package dev.aegis.audit;

import dev.aegis.core.AegisException;
import dev.aegis.core.AuditCheckpoint;
import dev.aegis.core.AuditLog;
import dev.aegis.core.AuditProof;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.AuditVerification;
import dev.aegis.core.AuditVerification.Broken;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.List;

/**
 * Verification that needs no open log and writes nothing: of a log folder (whether or not a server has it
 * open, e.g. for {@code aegis audit verify}), of a JSON Lines export, and of a single inclusion proof.
 */
public final class AuditVerifier {
    private AuditVerifier() {}

    /**
     * Checks the folder's chain from the start of the checkpoint interval holding {@code fromSeq} to its end,
     * and every checkpoint in that range against {@code publicKey} (PEM or base64).
     */
    public static AuditVerification verifyFolder(Path dir, long fromSeq, String publicKey, AuditLog.Progress progress) {
        try {
            Checkpoints.Loaded cps = Checkpoints.load(dir.resolve(FileAuditLog.CHECKPOINTS));
            return verify(new Segments(dir), cps, fromSeq, Long.MAX_VALUE, SigningKey.parsePublicKey(publicKey), progress);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the audit folder " + dir + ": " + e.getMessage(), e);
        }
    }

    static AuditVerification verify(Segments segments, Checkpoints.Loaded loaded, long fromSeq, long untilSeq,
                                    PublicKey key, AuditLog.Progress progress) {
        List<AuditCheckpoint> cps = loaded.checkpoints();
        for (int i = 0; i < cps.size(); i++) {
            long due = i == 0 ? 1 : cps.get(i - 1).toSeq() + 1;
            if (cps.get(i).fromSeq() != due) {
                return new Broken(due, "no checkpoint covers records " + due + ".." + (cps.get(i).fromSeq() - 1)
                        + " in checkpoints.log: a checkpoint line was removed or damaged" + unreadable(loaded));
            }
        }
        long signedTo = cps.isEmpty() ? 0 : cps.getLast().toSeq();
        if (!loaded.unreadable().isEmpty()) {
            return new Broken(signedTo + 1, "checkpoints.log has unreadable lines" + unreadable(loaded));
        }
        int idx = 0;
        while (idx < cps.size() && cps.get(idx).toSeq() < fromSeq) idx++;
        long start = idx == 0 ? 1 : cps.get(idx - 1).toSeq() + 1;
        byte[] anchor = Canonical.ZERO_HASH;
        if (idx > 0) {
            AuditCheckpoint before = cps.get(idx - 1);
            if (!SigningKey.verify(key, Canonical.checkpointMessage(before), before.signature())) {
                return new Broken(before.fromSeq(), "checkpoint " + before.fromSeq() + ".." + before.toSeq()
                        + " has a bad signature: it was forged or edited, or signed by another key than the one given");
            }
            anchor = Canonical.HEX.parseHex(before.headHash());
        }
        ChainVerifier v = new ChainVerifier(start, anchor, key, progress, untilSeq == Long.MAX_VALUE ? signedTo : untilSeq);
        Broken[] broken = {null};
        int[] next = {idx};
        try (ParallelScan scan = new ParallelScan()) {
            Signatures sigs = new Signatures(scan, cps, key, idx);
            scan.walk(segments, start, untilSeq, (b, i) -> {
                if (!b.fast[i] || !v.recordFast(b.seq[i], b.prev, b.hash, b.leaf, 32 * i)) broken[0] = v.record(b.item(i));
                while (broken[0] == null && next[0] < cps.size() && cps.get(next[0]).toSeq() <= v.lastSeq()) {
                    int at = next[0]++;
                    broken[0] = v.checkpoint(cps.get(at), () -> sigs.valid(at));
                }
                sigs.ahead(v.lastSeq());
                return broken[0] == null;
            });
        }
        if (broken[0] != null) return broken[0];
        if (next[0] < cps.size()) return v.missingTail(cps.get(next[0]));
        return v.finish();
    }

    /**
     * Checkpoint signature checks (Ed25519 verification costs as much as hashing about a thousand records) run
     * on the scan's pool a little ahead of the records they cover, so they overlap with the hashing.
     */
    private static final class Signatures {
        private static final long LOOKAHEAD = 1 << 15; // records
        private final ParallelScan scan;
        private final List<AuditCheckpoint> cps;
        private final PublicKey key;
        private final java.util.Map<Integer, java.util.concurrent.Future<Boolean>> pending = new java.util.HashMap<>();
        private int submitted;

        Signatures(ParallelScan scan, List<AuditCheckpoint> cps, PublicKey key, int first) {
            this.scan = scan;
            this.cps = cps;
            this.key = key;
            this.submitted = first;
        }

        void ahead(long seq) {
            while (submitted < cps.size() && cps.get(submitted).fromSeq() <= seq + LOOKAHEAD) {
                AuditCheckpoint c = cps.get(submitted);
                pending.put(submitted++, scan.submit(() -> check(key, c)));
            }
        }

        boolean valid(int index) {
            java.util.concurrent.Future<Boolean> f = pending.remove(index);
            if (f == null) return check(key, cps.get(index));
            try {
                return f.get();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while verifying", e);
            } catch (java.util.concurrent.ExecutionException e) {
                return check(key, cps.get(index));
            }
        }

        private static boolean check(PublicKey key, AuditCheckpoint c) {
            return SigningKey.verify(key, Canonical.checkpointMessage(c), c.signature());
        }
    }

    private static String unreadable(Checkpoints.Loaded loaded) {
        return loaded.unreadable().isEmpty() ? "" : " (unreadable: " + String.join("; ", loaded.unreadable()) + ")";
    }

    /**
     * Checks a JSON Lines export (records, each checkpoint after its last record). The first record's prev is
     * taken on trust unless the export starts at seq 1; compare it with a checkpoint head you hold.
     */
    public static AuditVerification verifyExport(InputStream jsonl, String publicKey, AuditLog.Progress progress) {
        PublicKey key = SigningKey.parsePublicKey(publicKey);
        ChainVerifier v = null;
        try {
            LineReader r = new LineReader(jsonl);
            while (r.next()) {
                LineCodec.Line line;
                try {
                    line = LineCodec.decode(r.buf(), r.off(), r.len());
                } catch (RuntimeException e) {
                    long seq = v == null ? 1 : v.lastSeq() + 1;
                    return new Broken(seq, "record " + seq + " is unreadable (byte " + r.offset() + ": " + e.getMessage() + ")");
                }
                if (v == null) {
                    long first = TornTail.seqOf(line);
                    v = new ChainVerifier(first, first == 1 ? Canonical.ZERO_HASH : null, key, progress, 0);
                }
                Broken b = switch (line) {
                    case LineCodec.RecordLine rec -> v.record(new LogScan.Good(rec.record()));
                    case LineCodec.CheckpointLine cp -> v.checkpoint(cp.checkpoint());
                };
                if (b != null) return b;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the export: " + e.getMessage(), e);
        }
        if (v == null) throw AegisException.invalid("export", "is empty: it holds no record");
        return v.finish();
    }

    /**
     * True when {@code record} hashes to the proof's record hash, the proof's audit path leads from it to the
     * checkpoint's Merkle root, and the checkpoint is signed by {@code publicKey}.
     */
    public static boolean verifyProof(AuditRecord record, AuditProof proof, String publicKey) {
        AuditCheckpoint c = proof.checkpoint();
        byte[] hash = Canonical.recordHash(record.seq(), Canonical.time(record.time()), record.event(),
                Canonical.HEX.parseHex(record.prevHash()));
        return record.seq() == proof.seq() && Canonical.HEX.formatHex(hash).equals(proof.recordHash())
                && SigningKey.verify(SigningKey.parsePublicKey(publicKey), Canonical.checkpointMessage(c), c.signature())
                && MerkleTree.verifyInclusion(Canonical.HEX.parseHex(proof.recordHash()), proof.leafIndex(), c.size(),
                        proof.path().stream().map(Canonical.HEX::parseHex).toList(), Canonical.HEX.parseHex(c.merkleRoot()));
    }
}
