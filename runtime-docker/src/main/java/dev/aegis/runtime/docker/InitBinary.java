package dev.aegis.runtime.docker;

import dev.aegis.core.RuntimeFailure;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * aegis-init (module sandbox-init), the container's command prefix: the shim that starts the egress relay, prints the
 * ready line, waits for the task and execs the entrypoint. Static, so it runs in any x86_64 image, with or without a
 * shell. Copied out of the class path into the state dir once, under a name holding a hash of its content (an
 * upgraded orchestrator never mounts an old copy); a plain file, since folders in the state dir are instances.
 */
final class InitBinary {
    static final String RESOURCE = "dev/aegis/init/aegis-init";
    /** Where the container sees it, read-only. */
    static final String IN_CONTAINER = "/opt/aegis/bin/aegis-init";

    private InitBinary() {}

    static Path install(Path stateDir) {
        byte[] bytes;
        try (InputStream in = InitBinary.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) throw new RuntimeFailure("aegis-init is not on the class path (" + RESOURCE + "): the sandbox-init"
                    + " module compiles it; build with ./aegis, which installs gcc and libc6-dev for that");
            bytes = in.readAllBytes();
        } catch (IOException e) {
            throw new RuntimeFailure("cannot read " + RESOURCE + ": " + e, e);
        }
        Path target = stateDir.resolve(".aegis-init-" + HexFormat.of().formatHex(sha256(bytes), 0, 6));
        try {
            if (Files.isRegularFile(target) && Arrays.equals(Files.readAllBytes(target), bytes)) return target;
            Files.createDirectories(stateDir);
            Path part = Files.createTempFile(stateDir, ".aegis-init-", ".part");
            Files.write(part, bytes);
            // World-executable: the container runs it as uid 1000, which Docker does not map to us.
            Files.setPosixFilePermissions(part, PosixFilePermissions.fromString("rwxr-xr-x"));
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new RuntimeFailure("cannot install aegis-init at " + target + ": " + e + " (the state dir must be writable)", e);
        }
    }

    private static byte[] sha256(byte[] bytes) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(bytes);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
