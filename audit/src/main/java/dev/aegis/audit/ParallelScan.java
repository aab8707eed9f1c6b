package dev.aegis.audit;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Iterator;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * {@link LogScan#walk} for verification, on all cores: the segments are read in large blocks, each block's
 * lines are checked by {@link FastRecord} on a pool thread (parse, canonical form, record hash, Merkle leaf),
 * and the caller sees the lines in file order with those results, on its own thread, where the cheap serial
 * part (seq order, prev links, checkpoints) runs. Same lines, same order, same start and stop rules as
 * {@link LogScan#walk}; a line the fast path does not take is decoded as there.
 */
final class ParallelScan implements AutoCloseable {
    /** Bytes of log per pool task. */
    private static final int BLOCK = 1 << 20;
    private final ExecutorService pool;
    private final int inFlight;
    private final ThreadLocal<FastRecord> fast = ThreadLocal.withInitial(FastRecord::new);

    ParallelScan() {
        int threads = Math.max(1, Runtime.getRuntime().availableProcessors());
        pool = Executors.newFixedThreadPool(threads, r -> Thread.ofPlatform().name("audit-verify").daemon().unstarted(r));
        inFlight = 2 * threads + 2;
    }

    /** Runs {@code task} on the pool (e.g. a checkpoint signature check). */
    <T> Future<T> submit(Callable<T> task) {
        return pool.submit(task);
    }

    /** The lines of one block, checked. */
    static final class Block {
        final Segments.Segment segment;
        final byte[] buf;
        final long fileOffset; // of buf[0]
        final int end; // bytes of buf that belong to this block
        int n;
        int[] off = new int[4096];
        int[] len = new int[4096];
        long[] seq = new long[4096]; // peeked seq, -1 when the line does not start like a record
        boolean[] complete = new boolean[4096];
        boolean[] fast = new boolean[4096];
        byte[] prev = new byte[32 * 4096];
        byte[] hash = new byte[32 * 4096];
        byte[] leaf = new byte[32 * 4096];

        Block(Segments.Segment segment, byte[] buf, int end, long fileOffset) {
            this.segment = segment;
            this.buf = buf;
            this.end = end;
            this.fileOffset = fileOffset;
        }

        /** The line decoded the slow way, with the same outcome and message as {@link LogScan#walk} gives. */
        LogScan.Item item(int i) {
            return LogScan.decode(segment, buf, off[i], len[i], fileOffset + off[i]);
        }

        private void grow() {
            int cap = off.length * 2;
            off = Arrays.copyOf(off, cap);
            len = Arrays.copyOf(len, cap);
            seq = Arrays.copyOf(seq, cap);
            complete = Arrays.copyOf(complete, cap);
            fast = Arrays.copyOf(fast, cap);
            prev = Arrays.copyOf(prev, 32 * cap);
            hash = Arrays.copyOf(hash, 32 * cap);
            leaf = Arrays.copyOf(leaf, 32 * cap);
        }
    }

    @FunctionalInterface
    interface Visitor {
        /** Line {@code i} of {@code b}; returns false to stop the walk. */
        boolean visit(Block b, int i);
    }

    /** As {@link LogScan#walk}: every line from the first with seq {@code >= fromSeq}, stopping past {@code untilSeq}. */
    void walk(Segments segments, long fromSeq, long untilSeq, Visitor v) {
        Iterator<Segments.Segment> segs = segments.from(fromSeq).iterator();
        ArrayDeque<Future<Block>> queue = new ArrayDeque<>();
        Reader reader = null;
        Segments.Segment current = null;
        boolean started = false;
        try {
            while (true) {
                while (queue.size() < inFlight) {
                    if (reader == null) {
                        if (!segs.hasNext()) break;
                        current = segs.next();
                        reader = new Reader(current);
                    }
                    Block raw = reader.next();
                    if (raw == null) {
                        reader.close();
                        reader = null;
                        continue;
                    }
                    queue.add(pool.submit(() -> check(raw, fromSeq, untilSeq)));
                }
                if (queue.isEmpty()) return;
                Block b = join(queue.poll());
                for (int i = 0; i < b.n; i++) {
                    // A line without its newline is at the end of a file: a write in flight, or torn by a crash
                    // and cut at the next open. Either way it was never acknowledged, so it is not a record yet.
                    if (!b.complete[i]) continue;
                    long peek = b.seq[i];
                    if (!started && peek < fromSeq) continue;
                    started = true;
                    if (peek > untilSeq) return;
                    if (!v.visit(b, i)) return;
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read audit segment " + current.file() + ": " + e.getMessage(), e);
        } finally {
            for (Future<Block> f : queue) f.cancel(true);
            if (reader != null) reader.close();
        }
    }

    /** Splits a block into lines and runs the fast path on those the walk may visit. */
    private Block check(Block b, long fromSeq, long untilSeq) {
        FastRecord fr = fast.get();
        byte[] buf = b.buf;
        int end = b.end;
        int p = 0;
        while (p < end) {
            int nl = p;
            while (nl < end && buf[nl] != '\n') nl++;
            boolean complete = nl < end;
            int lineEnd = complete ? nl + 1 : end;
            int i = b.n;
            if (i == b.off.length) b.grow();
            b.off[i] = p;
            b.len[i] = lineEnd - p;
            b.complete[i] = complete;
            long peek = LineReader.peekSeq(buf, p, lineEnd - p);
            b.seq[i] = peek;
            b.fast[i] = complete && peek >= fromSeq && peek <= untilSeq
                    && fr.check(buf, p, lineEnd - p, b.prev, b.hash, b.leaf, 32 * i) == peek;
            b.n++;
            p = lineEnd;
        }
        return b;
    }

    private static Block join(Future<Block> f) {
        try {
            return f.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while verifying", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException re) throw re;
            if (e.getCause() instanceof Error err) throw err;
            throw new IllegalStateException(e.getCause());
        }
    }

    /** Reads a segment in blocks that end at a line end (or at the end of the file). */
    private static final class Reader implements AutoCloseable {
        final Segments.Segment segment;
        private final InputStream in;
        private byte[] carry = new byte[0];
        private int carryLen;
        private long consumed; // bytes of the file handed out in blocks so far
        private boolean eof;

        Reader(Segments.Segment segment) throws IOException {
            this.segment = segment;
            this.in = segment.open();
        }

        /** The next block (lines not yet split), or null at the end of the file. */
        Block next() throws IOException {
            if (eof && carryLen == 0) return null;
            byte[] buf = new byte[Math.max(BLOCK, 2 * carryLen)];
            System.arraycopy(carry, 0, buf, 0, carryLen);
            int filled = carryLen;
            int cut;
            while (true) {
                while (!eof && filled < buf.length) {
                    int r = in.read(buf, filled, buf.length - filled);
                    if (r < 0) eof = true;
                    else filled += r;
                }
                cut = lastNewline(buf, 0, filled) + 1;
                if (eof) {
                    cut = filled; // the last line may lack its newline: the walk skips it
                    break;
                }
                if (cut > 0) break;
                buf = Arrays.copyOf(buf, buf.length * 2); // one line longer than a block
            }
            carryLen = filled - cut;
            if (carry.length < carryLen) carry = new byte[Math.max(carryLen, BLOCK)];
            System.arraycopy(buf, cut, carry, 0, carryLen);
            if (cut == 0) return null;
            Block b = new Block(segment, buf, cut, consumed);
            consumed += cut;
            return b;
        }

        private static int lastNewline(byte[] b, int from, int to) {
            for (int i = to - 1; i >= from; i--) if (b[i] == '\n') return i;
            return -1;
        }

        @Override
        public void close() {
            try {
                in.close();
            } catch (IOException ignored) {
                // read-only: nothing to lose
            }
        }
    }

    @Override
    public void close() {
        pool.shutdownNow();
    }
}
