package dev.aegis.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads {@code --input} values: inline JSON, or {@code @file}. */
final class Inputs {
    private Inputs() {}

    static String json(String value) throws IOException {
        if (value == null) return "{}";
        if (value.startsWith("@")) {
            Path p = Path.of(value.substring(1));
            if (!Files.isRegularFile(p)) throw new IllegalArgumentException("--input " + value + ": no such file");
            return Files.readString(p);
        }
        return value;
    }
}
