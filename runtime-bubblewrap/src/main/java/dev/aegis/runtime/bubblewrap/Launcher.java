package dev.aegis.runtime.bubblewrap;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Starts sandbox processes from one platform thread that lives as long as the JVM.
 * <p>
 * Why: bwrap's {@code --die-with-parent} uses PR_SET_PDEATHSIG, which fires when the <em>thread</em> that forked
 * bwrap exits, not the process. Forking from a virtual thread forks from its carrier, and carriers (and the
 * compensating threads the JDK adds while a carrier is pinned in a blocking call) are retired when idle, which
 * would SIGKILL healthy sandboxes at random. This thread never exits, so the signal means what we want:
 * the orchestrator died. Tasks go through {@code submit}, so an exception cannot kill the thread either.
 */
final class Launcher {
    private static final ExecutorService THREAD =
            Executors.newSingleThreadExecutor(Thread.ofPlatform().name("aegis-bwrap-launcher").daemon().factory());

    private Launcher() {}

    /** Starts the process; not interruptible, so a started process is never lost to an interrupt. */
    static Process start(ProcessBuilder builder) throws IOException {
        try {
            return CompletableFuture.supplyAsync(() -> {
                try {
                    return builder.start();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, THREAD).join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException io) throw io.getCause();
            throw e;
        }
    }
}
