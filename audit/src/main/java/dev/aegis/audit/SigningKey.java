package dev.aegis.audit;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.Set;

/**
 * The Ed25519 key that signs checkpoints, kept as a PKCS#8 PEM file with mode 0600 in the log's folder and
 * created on first start. Whoever can read that file can forge checkpoints, so operators who want protection
 * against a compromised host keep a copy of {@link #publicKeyPem()} elsewhere and verify against that.
 */
public final class SigningKey {
    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rw-------");
    private final PrivateKey privateKey;
    private final PublicKey publicKey;

    private SigningKey(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    /** Loads the key at {@code file}, or creates it (0600, fsync'd) when there is none. */
    static SigningKey loadOrCreate(Path file) {
        try {
            if (!Files.exists(file)) create(file);
            if (!Files.getPosixFilePermissions(file).equals(OWNER_ONLY)) {
                throw AuditException.damaged(file + " has mode " + PosixFilePermissions.toString(
                        Files.getPosixFilePermissions(file)) + "; the signing key must be rw------- (chmod 600 " + file + ")");
            }
            String pem = Files.readString(file, StandardCharsets.US_ASCII);
            PrivateKey priv = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(unpem(pem)));
            // The JDK cannot derive an Ed25519 public key from PKCS#8 v1, so the public half sits beside it.
            PublicKey pub = parsePublicKey(Files.readString(publicFile(file), StandardCharsets.US_ASCII));
            return new SigningKey(priv, pub);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the audit signing key " + file + ": " + e.getMessage(), e);
        } catch (GeneralSecurityException | RuntimeException e) {
            if (e instanceof AuditException ae) throw ae;
            throw AuditException.damaged(file + " (or its .pub) is not an Ed25519 PKCS#8 PEM key (" + e.getMessage()
                    + "); restore it from backup; a new key cannot re-sign old checkpoints");
        }
    }

    private static void create(Path file) throws IOException, GeneralSecurityException {
        KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        Files.writeString(tmp, pem("PRIVATE KEY", kp.getPrivate().getEncoded()), StandardOpenOption.SYNC);
        Files.writeString(publicFile(file), pem("PUBLIC KEY", kp.getPublic().getEncoded()), StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.SYNC);
        try {
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException raced) {
            Files.delete(tmp);
        }
        Segments.fsyncDir(file.getParent());
    }

    private static Path publicFile(Path keyFile) {
        return keyFile.resolveSibling(keyFile.getFileName() + ".pub");
    }

    public String publicKeyPem() {
        return pem("PUBLIC KEY", publicKey.getEncoded());
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    String sign(byte[] message) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(privateKey);
            s.update(message);
            return Base64.getEncoder().encodeToString(s.sign());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 signing failed", e);
        }
    }

    /** True when {@code signatureBase64} is a valid Ed25519 signature of {@code message} by {@code key}. */
    public static boolean verify(PublicKey key, byte[] message, String signatureBase64) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(key);
            s.update(message);
            return s.verify(Base64.getDecoder().decode(signatureBase64));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            return false;
        }
    }

    /** Parses an Ed25519 public key given as PEM or as bare base64 of its X.509 encoding. */
    public static PublicKey parsePublicKey(String pemOrBase64) {
        try {
            return KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(unpem(pemOrBase64)));
        } catch (GeneralSecurityException | IllegalArgumentException e) {
            throw dev.aegis.core.AegisException.invalid("publicKey", "not an Ed25519 public key (" + e.getMessage()
                    + "); pass the PEM printed by `aegis audit pubkey`");
        }
    }

    private static byte[] unpem(String text) {
        return Base64.getMimeDecoder().decode(text.replaceAll("-----[A-Z ]+-----", "").trim());
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }
}
