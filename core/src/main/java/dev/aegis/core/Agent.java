package dev.aegis.core;

import java.nio.file.Path;
import java.time.Instant;

/**
 * A deployed agent: its manifest and an immutable copy of its code.
 *
 * @param manifestYaml the file as deployed, kept verbatim so it can be shown and re-validated
 * @param codeDir      host folder with the agent's files; never changes after deploy
 * @param digest       SHA-256 over the deployed files, hex
 */
public record Agent(String tenant, Manifest manifest, String manifestYaml, Path codeDir, String digest, Instant deployedAt) {
    public String name() {
        return manifest.name();
    }
}
