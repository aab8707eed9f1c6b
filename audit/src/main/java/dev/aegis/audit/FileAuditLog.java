package dev.aegis.audit;

import dev.aegis.core.AegisException;
import dev.aegis.core.AuditCheckpoint;
import dev.aegis.core.AuditEvent;
import dev.aegis.core.AuditProof;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.AuditVerification;
import dev.aegis.core.AuditLog;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * The {@link AuditLog} on local files, in its own folder (normally {@code <data>/audit}): {@code segments/},
 * {@code archive/}, {@code checkpoints.log}, {@code signing.key} (+ {@code .pub}) and a {@code lock} that keeps
 * a second process out. Layout, encodings and the verification algorithm: docs/audit.md.
 */
public final class FileAuditLog implements AuditLog {
    static final String CHECKPOINTS = "checkpoints.log";
    /** Bigger events are refused: the writer keeps each unsynced write under TornTail's bound. */
    static final int MAX_EVENT_CHARS = 64 * 1024;
    private final Path dir;
    private final FileChannel lockFile;
    private final FileLock lock;
    private final SigningKey key;
    private final Segments segments;
    private final Checkpoints checkpoints;
    private final GroupCommitWriter writer;
    private final Tailer tailer;

    private FileAuditLog(Path dir, AuditOptions options) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        lockFile = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock held;
        try {
            held = lockFile.tryLock();
        } catch (java.nio.channels.OverlappingFileLockException sameProcess) {
            held = null;
        }
        lock = held;
        if (lock == null) {
            lockFile.close();
            throw AuditException.unavailable("another process has the audit log " + dir + " open; stop it first "
                    + "(read-only checks: AuditVerifier.verifyFolder)", null);
        }
        try {
            key = SigningKey.loadOrCreate(dir.resolve("signing.key"));
            segments = new Segments(dir);
            checkpoints = new Checkpoints(dir.resolve(CHECKPOINTS));
            Recovery.Result r = Recovery.recover(segments, checkpoints, key);
            RecentRecords recent = new RecentRecords(8192);
            GroupCommitWriter[] w = {null};
            tailer = new Tailer(recent, () -> w[0].durableSeq(), this::query);
            writer = new GroupCommitWriter(r.head(), r.segment(), segments, checkpoints, key, options, tailer::publish);
            w[0] = writer;
        } catch (IOException | RuntimeException e) {
            lockFile.close(); // releases the lock, so a repaired folder can be opened again in this process
            throw e;
        }
    }

    /** Opens (creating if needed) the log in {@code dir} with default options, repairing a torn tail. */
    public static FileAuditLog open(Path dir) {
        return open(dir, AuditOptions.defaults());
    }

    public static FileAuditLog open(Path dir, AuditOptions options) {
        try {
            return new FileAuditLog(dir, options);
        } catch (IOException e) {
            throw AuditException.unavailable("cannot open the audit log in " + dir + ": " + e.getMessage(), e);
        }
    }

    @Override
    public AuditRecord append(AuditEvent event) {
        int size = event.tenant().length() + event.actor().length() + event.action().length() + event.target().length()
                + event.reason().length();
        for (var d : event.details().entrySet()) size += d.getKey().length() + d.getValue().length();
        if (size > MAX_EVENT_CHARS) {
            throw AegisException.invalid("details", "the event has " + size + " characters; the limit is "
                    + MAX_EVENT_CHARS + " (record a hash of big values, not the values)");
        }
        try {
            return writer.submit(event).done().join().record();
        } catch (CompletionException e) {
            throw e.getCause() instanceof RuntimeException re ? re : e;
        }
    }

    @Override
    public List<AuditRecord> query(AuditQuery q) {
        List<AuditRecord> out = new ArrayList<>();
        LogScan.walk(segments, q.afterSeq() + 1, writer.durableSeq(), item -> {
            if (item instanceof LogScan.Good g && q.matches(g.record())) out.add(g.record());
            return out.size() < q.limit();
        });
        return out;
    }

    @Override
    public Subscription tail(long afterSeq, java.util.function.Consumer<AuditRecord> listener) {
        return tailer.subscribe(afterSeq, listener);
    }

    @Override
    public long lastSeq() {
        return writer.durableSeq();
    }

    @Override
    public AuditVerification verify(long fromSeq, String publicKey, Progress progress) {
        long until = writer.durableSeq();
        writer.awaitCheckpoints();
        return AuditVerifier.verify(segments, new Checkpoints.Loaded(checkpoints.all(), checkpoints.unreadable()),
                fromSeq, until, SigningKey.parsePublicKey(publicKey), progress);
    }

    @Override
    public AuditVerification verifyTail() {
        writer.awaitCheckpoints();
        long from = checkpoints.last().map(AuditCheckpoint::fromSeq).orElse(1L);
        return verify(from, key.publicKeyPem(), Progress.NONE);
    }

    @Override
    public String publicKey() {
        return key.publicKeyPem();
    }

    @Override
    public AuditProof proof(long seq) {
        writer.awaitCheckpoints(); // one may be being signed right now
        AuditCheckpoint c = checkpoints.covering(seq).orElseThrow(() -> AegisException.notFound("record " + seq
                + " is not covered by a checkpoint yet (last signed: " + checkpoints.last().map(AuditCheckpoint::toSeq)
                .orElse(0L) + "); checkpoints follow within the configured interval"));
        List<byte[]> hashes = new ArrayList<>((int) c.size());
        LogScan.walk(segments, c.fromSeq(), c.toSeq(), item -> {
            if (item instanceof LogScan.Good g) hashes.add(Canonical.HEX.parseHex(g.record().hash()));
            return true;
        });
        if (hashes.size() != c.size()) {
            throw AuditException.damaged("records " + c.fromSeq() + ".." + c.toSeq() + " are incomplete on disk; run verify");
        }
        List<String> path = MerkleTree.path(hashes, (int) (seq - c.fromSeq())).stream().map(Canonical.HEX::formatHex).toList();
        return new AuditProof(seq, Canonical.HEX.formatHex(hashes.get((int) (seq - c.fromSeq()))), path, c);
    }

    @Override
    public void export(long fromSeq, OutputStream out) {
        writer.awaitCheckpoints();
        Exporter.export(segments, checkpoints.all(), fromSeq, writer.durableSeq(), out);
    }

    /**
     * Moves closed segments whose records all lie below {@code beforeSeq} and are covered by a checkpoint to
     * {@code archive/}, gzip-compressed. They stay part of the chain: verify, query and export read them.
     *
     * @return how many segments were archived
     */
    public int archive(long beforeSeq) {
        long signedTo = checkpoints.last().map(AuditCheckpoint::toSeq).orElse(0L);
        List<Segments.Segment> all = segments.all();
        int n = 0;
        for (int i = 0; i + 1 < all.size(); i++) { // never the last: it is open for appends
            Segments.Segment s = all.get(i);
            long lastInSegment = all.get(i + 1).firstSeq() - 1;
            if (s.archived() || lastInSegment >= beforeSeq || lastInSegment > signedTo) continue;
            try {
                segments.archive(s);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot archive " + s.file() + ": " + e.getMessage(), e);
            }
            n++;
        }
        return n;
    }

    /** The folder this log lives in. */
    public Path dir() {
        return dir;
    }

    @Override
    public void close() {
        writer.close();
        try {
            checkpoints.close();
            lock.release();
            lockFile.close();
        } catch (IOException ignored) {
            // The lock goes with the process anyway; nothing unsynced is left by now.
        }
    }
}
