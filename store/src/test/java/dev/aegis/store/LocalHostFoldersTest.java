package dev.aegis.store;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.aegis.core.AegisException;
import dev.aegis.core.HostFolders;
import dev.aegis.core.SandboxSpec;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Host-side resolution of grants on a real filesystem: longest approved folder wins, symlinks resolved, listings bounded. */
class LocalHostFoldersTest {
    @TempDir
    Path dir;

    @Test
    void resolvesInsideTheLongestApprovedFolderWithSymlinksResolved() throws Exception {
        Path data = Files.createDirectories(dir.resolve("data/inbox/2026"));
        Files.createDirectories(dir.resolve("out/acme/reports"));
        Files.createDirectories(dir.resolve("elsewhere"));
        Files.createSymbolicLink(dir.resolve("data/inbox/alias"), data);            // stays inside: allowed
        Files.createSymbolicLink(dir.resolve("data/leak"), dir.resolve("elsewhere")); // leaves: refused
        LocalHostFolders f = new LocalHostFolders(List.of(HostFolders.Approved.parse(dir.resolve("data") + "=/data", false),
                HostFolders.Approved.parse(dir.resolve("out") + "/{tenant}=/data/out", true)));
        assertThat(f.resolve("acme", "/data/inbox/2026", false)).isEqualTo(new SandboxSpec.Mount(data.toRealPath(), "/data/inbox/2026", false));
        assertThat(f.resolve("acme", "/data/inbox/alias", false).host()).isEqualTo(data.toRealPath());
        assertThat(f.resolve("acme", "/data/out/reports", true).host()).isEqualTo(dir.resolve("out/acme/reports").toRealPath());
        assertThat(f.resolve("acme", "/data/out", true).host()).isEqualTo(dir.resolve("out/acme").toRealPath());
        denied(() -> f.resolve("other", "/data/out", true), "does not exist on this server for tenant other");
        denied(() -> f.resolve("acme", "/data/leak", false), "through a symbolic link");
        denied(() -> f.resolve("acme", "/data/inbox", true), "read-only");
        denied(() -> f.resolve("acme", "/database", false), "outside every folder");
        denied(() -> f.resolve("acme", "/data/nope", false), "does not exist");
    }

    @Test
    void approvedEntriesAreCheckedWhenParsed() {
        assertThat(HostFolders.Approved.parse("/srv/x", true)).isEqualTo(new HostFolders.Approved("/srv/x", "/srv/x", true));
        assertThat(HostFolders.Approved.parse("/srv/{tenant}/in=/data/in", false).toString()).isEqualTo("/srv/{tenant}/in=/data/in (read-only)");
        for (String bad : List.of("relative", "/", "/srv=/etc/x", "/srv=/workspace", "/srv=/data/../x", "/srv=/run", "/srv=/data//x"))
            assertThatThrownBy(() -> HostFolders.Approved.parse(bad, true)).as(bad).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("\"" + bad + "\"");
    }

    @Test
    void listingsNeverFollowSymlinksAndStopAtTheCap() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root/b"));
        Files.writeString(root.resolve("f.txt"), "12345");
        Files.writeString(dir.resolve("root/a.txt"), "x");
        Files.createSymbolicLink(dir.resolve("root/c-link"), Path.of("/etc"));
        LocalHostFolders f = new LocalHostFolders(List.of());
        HostFolders.Listing all = f.list(dir.resolve("root"), 100);
        assertThat(all.files().keySet()).containsExactly("a.txt", "b", "b/f.txt", "c-link");
        assertThat(all.files().get("b/f.txt").size()).isEqualTo(5);
        assertThat(all.truncated()).isFalse();
        HostFolders.Listing cut = f.list(dir.resolve("root"), 2);
        assertThat(cut.files().keySet()).containsExactly("a.txt", "b");
        assertThat(cut.truncated()).isTrue();
        assertThat(f.list(dir.resolve("missing"), 10).files()).isEmpty();
    }

    /** Prints what the write audit's listing costs at its cap; the bound only catches a gross regression. */
    @Test
    void listingTenThousandFilesTakesMilliseconds() throws Exception {
        Path root = Files.createDirectories(dir.resolve("many"));
        for (int d = 0; d < 10; d++) {
            Path sub = Files.createDirectories(root.resolve("d" + d));
            for (int i = 0; i < 1000; i++) Files.writeString(sub.resolve("f" + i), "x");
        }
        LocalHostFolders f = new LocalHostFolders(List.of());
        f.list(root, 10_010); // warm the page cache and the JIT once
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            long t0 = System.nanoTime();
            assertThat(f.list(root, 10_010).files()).hasSize(10_010);
            best = Math.min(best, System.nanoTime() - t0);
        }
        System.out.printf("write-audit listing of 10,010 entries (10 folders x 1,000 files): best of 5 %.1f ms%n", best / 1e6);
        assertThat(best / 1e6).isLessThan(5_000);
    }

    private static void denied(Runnable r, String message) {
        assertThatThrownBy(r::run).isInstanceOf(AegisException.class).hasMessageContaining(message)
                .satisfies(e -> assertThat(((AegisException) e).code()).isEqualTo("policy_denied"));
    }
}
