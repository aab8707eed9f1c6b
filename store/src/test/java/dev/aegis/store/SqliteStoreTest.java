package dev.aegis.store;

import static org.assertj.core.api.Assertions.assertThat;

import dev.aegis.core.LogLine;
import dev.aegis.core.Task;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteStoreTest extends StoreContract {
    @TempDir
    Path dataDir;

    @Override
    Database open() {
        return Database.inDataDir(dataDir);
    }

    @Test
    void oneFileInWalModeWithForeignKeys() {
        assertThat(dataDir.resolve("aegis.db")).isRegularFile();
        assertThat(pragma("journal_mode")).isEqualTo("wal");
        assertThat(pragma("foreign_keys")).isEqualTo("1");
        assertThat(pragma("busy_timeout")).isEqualTo(String.valueOf(Database.BUSY_TIMEOUT_MS));
        assertThat(pragma("synchronous")).isEqualTo("2"); // FULL
    }

    private String pragma(String name) {
        return db.reader().withHandle(h -> h.createQuery("PRAGMA " + name).mapTo(String.class).one());
    }

    /** Prints what one committed write costs here; the bound only catches a gross regression. */
    @Test
    void writeLatency() {
        int n = 300;
        long[] create = new long[n];
        long[] logs = new long[n];
        for (int i = 0; i < n; i++) {
            long start = System.nanoTime();
            db.tasks().create(queued("lat" + i, "acme", Instant.now()));
            create[i] = System.nanoTime() - start;
            start = System.nanoTime();
            db.tasks().appendLogs(List.of(new LogLine("lat" + i, 1, Instant.now(), "a"), new LogLine("lat" + i, 2, Instant.now(), "b")));
            logs[i] = System.nanoTime() - start;
        }
        System.out.printf("sqlite write latency (synchronous=FULL, WAL): create p50 %.3f ms p99 %.3f ms; appendLogs(2) p50 %.3f ms p99 %.3f ms%n",
                pct(create, 50), pct(create, 99), pct(logs, 50), pct(logs, 99));
        assertThat(pct(create, 50)).isLessThan(50);
        assertThat(db.tasks().list("acme", n)).extracting(Task::id).hasSize(n);
    }

    private static double pct(long[] nanos, int p) {
        long[] s = nanos.clone();
        Arrays.sort(s);
        return s[Math.min(s.length - 1, s.length * p / 100)] / 1e6;
    }
}
