package dev.aegis.runtime.docker;

import dev.aegis.core.RuntimeFailure;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

/** Instance folders a crashed orchestrator left under the state dir. */
final class Leftovers {
    private Leftovers() {}

    /** Only folders we made (they hold the marker) or empty ones: the state dir may be shared with other files. */
    static Set<String> folders(Path stateDir) {
        try (Stream<Path> s = Files.list(stateDir)) {
            Set<String> names = new TreeSet<>();
            for (Path dir : s.filter(Files::isDirectory).toList()) {
                boolean ours = Files.exists(dir.resolve(InstanceFolder.MARKER));
                try (Stream<Path> inside = Files.list(dir)) {
                    if (ours || inside.findAny().isEmpty()) names.add(dir.getFileName().toString());
                }
            }
            return names;
        } catch (NoSuchFileException e) {
            return Set.of();
        } catch (IOException e) {
            throw new RuntimeFailure("cannot list state dir " + stateDir + ": " + e, e);
        }
    }
}
