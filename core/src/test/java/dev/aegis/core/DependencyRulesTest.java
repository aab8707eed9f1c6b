package dev.aegis.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Dependencies point inward (STYLE.md rule 2): {@code core} knows no other module and does no I/O; adapters
 * depend on {@code core} only; only {@code cli} (the wiring) and {@code bench} may see everything. Scans the
 * sources of every module, so a forbidden import fails this build even when the other module compiles.
 */
class DependencyRulesTest {
    /** Tests run in {@code core/}; the repository root holds every module. */
    private static final Path ROOT = Path.of("..").toAbsolutePath().normalize();
    private static final Set<String> WIRING = Set.of("dev.aegis.cli", "dev.aegis.bench");
    private static final String CORE = "dev.aegis.core";
    private static final Pattern PACKAGE = Pattern.compile("(?m)^package\\s+([\\w.]+)\\s*;");
    private static final Pattern IMPORT = Pattern.compile("(?m)^import\\s+(?:static\\s+)?([\\w.]+(?:\\.\\*)?)\\s*;");
    /** I/O in core: files and sockets. {@code java.nio.file.Path} as a value is fine, {@code Files} is not. */
    private static final List<String> CORE_IO = List.of("java.io.File", "java.io.*", "java.nio.file.Files",
            "java.nio.file.*", "java.net.");

    @Test
    void dependenciesPointInward() throws IOException {
        List<String> problems = new ArrayList<>();
        List<Path> sources = sources();
        assertThat(sources).as("scanned from %s", ROOT).anyMatch(p -> p.endsWith("dev/aegis/core/Manifest.java"));
        for (Path file : sources) {
            String text = Files.readString(file);
            Matcher pkg = PACKAGE.matcher(text);
            if (!pkg.find()) continue;
            String own = moduleOf(pkg.group(1));
            String where = ROOT.relativize(file).toString();
            Matcher imports = IMPORT.matcher(text);
            while (imports.find()) {
                String imported = imports.group(1);
                if (!imported.startsWith("dev.aegis.")) continue;
                String other = moduleOf(imported);
                boolean allowed = other.equals(own) || (!own.equals(CORE) && other.equals(CORE)) || WIRING.contains(own);
                if (!allowed) problems.add(where + " (" + own + ") imports " + imported);
            }
            if (own.equals(CORE))
                for (String io : CORE_IO)
                    if (text.contains(io)) problems.add(where + " uses " + io + ": core does no I/O");
        }
        assertThat(problems).as("forbidden dependencies").isEmpty();
    }

    /** The module a package belongs to: {@code dev.aegis.runtime.docker.spi} -> {@code dev.aegis.runtime.docker}. */
    static String moduleOf(String name) {
        String[] parts = name.split("\\.");
        int depth = parts.length > 2 && parts[2].equals("runtime") ? 4 : 3;
        return String.join(".", List.of(parts).subList(0, Math.min(depth, parts.length)));
    }

    @Test
    void modulesAreNamedByTheirFirstPackageSegments() {
        assertThat(moduleOf("dev.aegis.runtime.bubblewrap.Foo")).isEqualTo("dev.aegis.runtime.bubblewrap");
        assertThat(moduleOf("dev.aegis.store.spi.Bar")).isEqualTo("dev.aegis.store");
        assertThat(moduleOf("dev.aegis.core.Manifest")).isEqualTo(CORE);
    }

    private static List<Path> sources() throws IOException {
        List<Path> files = new ArrayList<>();
        try (Stream<Path> modules = Files.list(ROOT)) {
            for (Path main : modules.map(m -> m.resolve("src/main/java")).filter(Files::isDirectory).toList())
                try (Stream<Path> walk = Files.walk(main)) {
                    walk.filter(p -> p.toString().endsWith(".java")).forEach(files::add);
                }
        }
        return files;
    }
}
