package dev.aegis.llm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** Dependencies point inward: the LLM gateway may use core, never another adapter or the api/cli that wire it. */
class LlmDependenciesTest {
    @Test
    void mainCodeImportsNoAegisModuleButCore() throws IOException {
        List<String> offending;
        try (Stream<Path> files = Files.walk(Path.of("src/main/java"))) {
            offending = files.filter(p -> p.toString().endsWith(".java")).flatMap(p -> {
                try {
                    return Files.readAllLines(p).stream().filter(l -> l.startsWith("import dev.aegis.")
                            && !l.startsWith("import dev.aegis.core.") && !l.startsWith("import dev.aegis.llm."))
                            .map(l -> p.getFileName() + ": " + l);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }).toList();
        }
        assertThat(offending).as("llm must depend only on core").isEmpty();
    }
}
