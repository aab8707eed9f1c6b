package dev.aegis.runtime.bubblewrap;

import dev.aegis.core.RuntimeFailure;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The host files every sandbox of a runtime binds read-only and nobody writes: aegis-init (module sandbox-init: the
 * enter wrapper, the shim and the egress relay), our passwd, group and hosts, and the seccomp program. Written once
 * into the state dir, not once per sandbox (each file is a create, a write and an unlink less per spawn). Each name
 * carries a hash of the content, so an upgraded orchestrator never uses an old copy and a running one never sees its
 * copy change. Plain files, not folders: reclaim() and the leftover checks treat folders in the state dir as instances.
 */
record SharedFiles(Path init, Path passwd, Path group, Path hosts, Optional<Path> seccomp) {
    static final String INIT_RESOURCE = "dev/aegis/init/aegis-init";
    /** Where the sandbox sees aegis-init. */
    static final String INIT_IN_SANDBOX = "/opt/aegis/bin/aegis-init";
    /** A passwd naming only uid 1000: the host's users (and its /etc/shadow) never enter the sandbox. */
    private static final String PASSWD = "aegis:x:1000:1000:aegis agent:/workspace:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n";
    private static final String GROUP = "aegis:x:1000:\nnogroup:x:65534:\n";
    private static final String HOSTS = "127.0.0.1 localhost aegis\n::1 localhost\n";

    static SharedFiles install(Path stateDir, Optional<byte[]> seccomp) {
        return new SharedFiles(
                write(stateDir, "aegis-init", initBinary(), "rwxr-xr-x"),
                write(stateDir, "passwd", PASSWD.getBytes(StandardCharsets.UTF_8), "rw-------"),
                write(stateDir, "group", GROUP.getBytes(StandardCharsets.UTF_8), "rw-------"),
                write(stateDir, "hosts", HOSTS.getBytes(StandardCharsets.UTF_8), "rw-------"),
                seccomp.map(program -> write(stateDir, "seccomp.bpf", program, "rw-------")));
    }

    /** Whether every file is still there (someone may have cleaned the state dir under a running orchestrator). */
    boolean intact() {
        return Files.isRegularFile(init) && Files.isRegularFile(passwd) && Files.isRegularFile(group) && Files.isRegularFile(hosts)
                && seccomp.map(Files::isRegularFile).orElse(true);
    }

    private static byte[] initBinary() {
        try (InputStream in = SharedFiles.class.getClassLoader().getResourceAsStream(INIT_RESOURCE)) {
            if (in == null) throw new RuntimeFailure("aegis-init is not on the class path (" + INIT_RESOURCE + "): the sandbox-init"
                    + " module compiles it; build with ./aegis, which installs gcc and libc6-dev for that");
            return in.readAllBytes();
        } catch (IOException e) {
            throw new RuntimeFailure("cannot read " + INIT_RESOURCE + ": " + e, e);
        }
    }

    private static Path write(Path stateDir, String name, byte[] bytes, String mode) {
        Path target = stateDir.resolve("." + name + "-" + HexFormat.of().formatHex(sha256(bytes), 0, 6));
        try {
            if (Files.isRegularFile(target) && Arrays.equals(Files.readAllBytes(target), bytes)) return target;
            Files.createDirectories(stateDir);
            Path part = Files.createTempFile(stateDir, "." + name + "-", ".part");
            Files.write(part, bytes);
            Files.setPosixFilePermissions(part, PosixFilePermissions.fromString(mode));
            Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return target;
        } catch (IOException e) {
            throw new RuntimeFailure("cannot write " + target + ": " + e + " (the state dir must be writable)", e);
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
