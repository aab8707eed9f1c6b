package dev.aegis.cli;

import dev.aegis.store.SecretCipher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import java.util.Set;

/**
 * The node's secrets key (AES-256, base64 of 32 bytes), from the first of: the server's {@code --secrets-key-file},
 * {@code $AEGIS_SECRETS_KEY}, or {@code <data>/secrets.key}. The last is made on first start (mode 0600) so the
 * embedded default needs no setup; it sits beside the database it protects, which guards a copied database or a
 * backup of it, not a stolen data folder: production nodes take the key from outside the data folder.
 */
final class SecretsKey {
    static final String FILE = "secrets.key";
    static final String ENV = "AEGIS_SECRETS_KEY";

    /** @param notice what to tell the operator at start (a key was made, or its file is readable by others) */
    record Loaded(SecretCipher cipher, String source, Optional<String> notice) {}

    private SecretsKey() {}

    /**
     * @param secretsStored whether the database already holds secrets: then a missing key is an error, never a new one
     */
    static Loaded load(Optional<Path> file, Optional<String> env, Path dataDir, boolean secretsStored) {
        if (file.isPresent()) return fromFile(file.get(), "--secrets-key-file " + file.get());
        if (env.isPresent()) return new Loaded(new SecretCipher(decode(env.get(), "$" + ENV)), "$" + ENV, Optional.empty());
        Path own = dataDir.resolve(FILE);
        if (Files.exists(own)) return fromFile(own, own.toString());
        if (secretsStored)
            throw new IllegalStateException("the database holds secrets but no key was given and " + own + " does not exist; "
                    + "start with the key they were sealed with: --secrets-key-file or $" + ENV);
        return new Loaded(new SecretCipher(decode(generate(own), own.toString())), own.toString(), Optional.of(
                "made a new secrets key in " + own + " (mode 0600). Back it up: without it the stored secrets cannot be "
                        + "read. In production pass the key from outside the data folder ($" + ENV + " or --secrets-key-file)."));
    }

    private static Loaded fromFile(Path file, String source) {
        try {
            String text = Files.readString(file, StandardCharsets.US_ASCII);
            Optional<String> notice = Optional.empty();
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (perms.stream().anyMatch(p -> p.name().startsWith("GROUP_") || p.name().startsWith("OTHERS_")))
                notice = Optional.of("the secrets key " + file + " is readable by others (" + PosixFilePermissions.toString(perms)
                        + "); chmod 600 it");
            return new Loaded(new SecretCipher(decode(text, source)), source, notice);
        } catch (IOException e) {
            throw new UncheckedIOException("secrets key: cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    static byte[] decode(String base64, String source) {
        byte[] key;
        try {
            key = Base64.getDecoder().decode(base64.strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(source + ": is not base64 (" + e.getMessage() + "); make a key with: "
                    + "head -c 32 /dev/urandom | base64");
        }
        if (key.length != 32)
            throw new IllegalArgumentException(source + ": holds " + key.length + " bytes, a secrets key is 32 (AES-256); "
                    + "make one with: head -c 32 /dev/urandom | base64");
        return key;
    }

    /** Creates the file with mode 0600 from the start (no window where it is readable) and returns its content. */
    private static String generate(Path file) {
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        String text = Base64.getEncoder().encodeToString(raw) + "\n";
        try {
            Files.createDirectories(file.getParent());
            Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
            Files.writeString(file, text, StandardCharsets.US_ASCII);
            return text;
        } catch (FileAlreadyExistsException e) {
            throw new IllegalStateException("secrets key " + file + " appeared while starting; start again", e);
        } catch (IOException e) {
            throw new UncheckedIOException("secrets key: cannot create " + file + ": " + e.getMessage(), e);
        }
    }
}
