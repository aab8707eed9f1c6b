package dev.aegis.cli;

import java.nio.file.Path;

/** Where commands keep their state: {@code --data}, else {@code $AEGIS_DATA}, else {@code ~/.aegis}. */
final class DataDir {
    private DataDir() {}

    static Path resolve(Path flag) {
        if (flag != null) return flag.toAbsolutePath();
        String env = System.getenv("AEGIS_DATA");
        if (env != null && !env.isBlank()) return Path.of(env).toAbsolutePath();
        return Path.of(System.getProperty("user.home"), ".aegis");
    }
}
