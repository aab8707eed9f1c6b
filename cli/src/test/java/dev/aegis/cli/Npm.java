package dev.aegis.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** The npm packages tests run, installed by the repository's scripts under tools/ (quiet when already there). */
final class Npm {
    private Npm() {}

    /** Runs {@code tools/<script>} and returns the folder it installed into (what it prints). */
    static Path install(String script) throws Exception {
        Process p = new ProcessBuilder(Path.of("..", "tools", script).toAbsolutePath().normalize().toString())
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor()).as("tools/" + script).isZero();
        return Path.of(out);
    }
}
