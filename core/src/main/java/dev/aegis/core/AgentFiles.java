package dev.aegis.core;

import java.io.InputStream;
import java.nio.file.Path;

/** Moves agent code in and out of the data folder. */
public interface AgentFiles {
    /** Reads {@code agent.yaml} of an agent folder; {@link AegisException} {@code invalid_manifest} if missing. */
    String readManifest(Path folder);

    /**
     * Copies the folder's regular files into a new immutable folder of the data folder.
     * Symlinks, devices and files outside the folder are refused.
     */
    Installed install(String tenant, String name, Path folder);

    /** Unpacks a tar.gz upload into a fresh staging folder, refusing absolute paths, {@code ..} and links. */
    Path unpack(InputStream tarGz, long maxBytes);

    /** Deletes a staging or installed folder. */
    void delete(Path folder);

    record Installed(Path dir, String digest) {}
}
