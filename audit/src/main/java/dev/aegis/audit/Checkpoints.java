package dev.aegis.audit;

import dev.aegis.core.AuditCheckpoint;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * {@code checkpoints.log}: one signed checkpoint per line, ranges contiguous from seq 1. Kept apart from the
 * segments so that cutting records off the end of the log leaves a signed witness that they existed.
 */
final class Checkpoints implements AutoCloseable {
    private final Path file;
    private final FileChannel channel;
    private final List<AuditCheckpoint> all = new CopyOnWriteArrayList<>();
    private final List<String> unreadable = new ArrayList<>();

    Checkpoints(Path file) throws IOException {
        this.file = file;
        if (!Files.exists(file)) {
            Files.createFile(file);
            Segments.fsyncDir(file.getParent());
        }
        TornTail.repair(file, 0);
        Loaded loaded = load(file);
        all.addAll(loaded.checkpoints());
        unreadable.addAll(loaded.unreadable());
        channel = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    }

    /** The checkpoints of a file, and where lines did not decode; an unfinished last line is ignored. */
    record Loaded(List<AuditCheckpoint> checkpoints, List<String> unreadable) {}

    /** Reads {@code file} without repairing it, for verifiers that must not write. */
    static Loaded load(Path file) throws IOException {
        List<AuditCheckpoint> all = new ArrayList<>();
        List<String> unreadable = new ArrayList<>();
        if (!Files.exists(file)) return new Loaded(all, unreadable);
        try (InputStream in = Files.newInputStream(file)) {
            LineReader r = new LineReader(in);
            while (r.next()) {
                if (!r.complete()) continue;
                try {
                    if (LineCodec.decode(r.buf(), r.off(), r.len()) instanceof LineCodec.CheckpointLine(AuditCheckpoint c)) {
                        all.add(c);
                    } else {
                        unreadable.add("byte " + r.offset() + ": a record line in checkpoints.log");
                    }
                } catch (RuntimeException e) {
                    unreadable.add("byte " + r.offset() + ": " + e.getMessage());
                }
            }
        }
        return new Loaded(all, unreadable);
    }

    /** Appends and fsyncs one checkpoint. */
    void append(AuditCheckpoint c) {
        try {
            ByteBuffer b = ByteBuffer.wrap(LineCodec.encode(c));
            while (b.hasRemaining()) channel.write(b);
            channel.force(false);
            all.add(c);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write audit checkpoint to " + file + ": " + e.getMessage(), e);
        }
    }

    List<AuditCheckpoint> all() {
        return List.copyOf(all);
    }

    /** Lines of checkpoints.log that did not decode, for the verifier to report. */
    List<String> unreadable() {
        return List.copyOf(unreadable);
    }

    Optional<AuditCheckpoint> last() {
        return all.isEmpty() ? Optional.empty() : Optional.of(all.getLast());
    }

    /** The checkpoint whose range holds {@code seq}. */
    Optional<AuditCheckpoint> covering(long seq) {
        List<AuditCheckpoint> list = all();
        int lo = 0, hi = list.size() - 1;
        while (lo <= hi) {
            int mid = (lo + hi) >>> 1;
            AuditCheckpoint c = list.get(mid);
            if (seq < c.fromSeq()) hi = mid - 1;
            else if (seq > c.toSeq()) lo = mid + 1;
            else return Optional.of(c);
        }
        return Optional.empty();
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
