package dev.aegis.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One node per data folder. A second one would fail the first one's running tasks at its crash recovery, reclaim
 * its live sandboxes and take over its agent socket; an OS file lock prevents that, and dies with the process.
 */
final class DataLock implements AutoCloseable {
    private final FileChannel channel;
    private final FileLock lock;

    private DataLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    static DataLock acquire(Path dataDir) {
        Path file = dataDir.resolve("aegis.lock");
        try {
            Files.createDirectories(dataDir);
            FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.READ);
            FileLock lock;
            try {
                lock = ch.tryLock();
            } catch (OverlappingFileLockException e) {
                lock = null;
            }
            if (lock == null) {
                String holder = new String(Files.readAllBytes(file), StandardCharsets.UTF_8).strip();
                ch.close();
                throw new IllegalStateException("data folder " + dataDir + " is in use by another aegis process"
                        + (holder.isEmpty() ? "" : " (pid " + holder + ")")
                        + "; stop it, or give this one its own folder with --data or AEGIS_DATA");
            }
            ch.truncate(0);
            ch.write(ByteBuffer.wrap(Long.toString(ProcessHandle.current().pid()).getBytes(StandardCharsets.UTF_8)));
            return new DataLock(ch, lock);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot lock data folder " + dataDir, e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException e) {
            // the lock goes with the channel or the process anyway
        }
    }
}
