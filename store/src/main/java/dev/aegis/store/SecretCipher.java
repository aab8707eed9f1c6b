package dev.aegis.store;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;

/**
 * AES-256-GCM for secret values, with the JDK's provider: a fresh random 96-bit nonce per value (never reused
 * under one key: 2^-32 collision odds only after about 2^32 values) and a 128-bit tag. The associated data binds
 * the row's tenant and name, so a ciphertext moved to another tenant or name fails to open.
 */
public final class SecretCipher {
    static final int KEY_BYTES = 32;
    private static final int NONCE_BYTES = 12;
    private static final int TAG_BITS = 128;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final SecretKeySpec key;
    private final String keyId;

    /** @throws IllegalArgumentException unless {@code key} is 32 bytes */
    public SecretCipher(byte[] key) {
        if (key == null || key.length != KEY_BYTES)
            throw new IllegalArgumentException("a secrets key is 32 bytes (AES-256), got " + (key == null ? 0 : key.length));
        this.key = new SecretKeySpec(key.clone(), "AES");
        this.keyId = keyId(key);
    }

    /** A value sealed under the key {@code keyId}. */
    record Sealed(String keyId, byte[] nonce, byte[] ciphertext) {}

    /** Names the key without revealing it: the first 16 hex digits of a domain-separated SHA-256. */
    public String keyId() {
        return keyId;
    }

    Sealed seal(String tenant, String name, String value) {
        byte[] nonce = new byte[NONCE_BYTES];
        RANDOM.nextBytes(nonce);
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
            c.updateAAD(aad(tenant, name));
            return new Sealed(keyId, nonce, c.doFinal(value.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is in every JDK", e);
        }
    }

    /** @throws WrongKey when the tag does not verify: another key, another row's ciphertext, or a changed byte */
    String open(String tenant, String name, Sealed sealed) {
        try {
            Cipher c = Cipher.getInstance("AES/GCM/NoPadding");
            c.init(Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed.nonce()));
            c.updateAAD(aad(tenant, name));
            return new String(c.doFinal(sealed.ciphertext()), StandardCharsets.UTF_8);
        } catch (AEADBadTagException e) {
            throw new WrongKey("secret " + name + " of tenant " + tenant + " does not decrypt with key " + keyId
                    + (sealed.keyId().equals(keyId) ? " (its row was changed or moved)" : " (it was sealed with key " + sealed.keyId() + ")"));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("AES-GCM is in every JDK", e);
        }
    }

    /** A stored secret that this key cannot open. */
    public static final class WrongKey extends RuntimeException {
        WrongKey(String message) {
            super(message);
        }
    }

    // Versioned and NUL-separated: tenant and name can hold no NUL, so no two (tenant, name) pairs share an AAD.
    private static byte[] aad(String tenant, String name) {
        return ("aegis-secret-v1\0" + tenant + "\0" + name).getBytes(StandardCharsets.UTF_8);
    }

    private static String keyId(byte[] key) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update("aegis-secrets-key-id\0".getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(Arrays.copyOf(sha.digest(key), 8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }
}
