package dev.aegis.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Mints and checks API keys. A key reads {@code aeg_live_<id>_<secret>}: the id (public, 12 hex) finds the
 * stored row, the secret (256 bits) is kept only as SHA-256(salt || secret) and compared in constant time.
 */
public final class ApiKeys {
    public static final String PREFIX = "aeg_live_";
    private static final Pattern SHAPE = Pattern.compile("aeg_live_([0-9a-f]{12})_([0-9a-f]{64})");
    private static final SecureRandom RANDOM = new SecureRandom();

    private final KeyStore store;
    private final Clock clock;

    public ApiKeys(KeyStore store, Clock clock) {
        this.store = store;
        this.clock = clock;
    }

    /** A new key; the returned plaintext is the only copy that will ever exist. */
    public record Minted(ApiKey key, String plaintext) {}

    /** Roles, strongest first: admin manages keys; deployer deploys; runner runs and cancels; reader reads. */
    public static final java.util.List<String> ROLES = java.util.List.of("admin", "deployer", "runner", "reader");
    private static final Pattern TENANT = Pattern.compile("[a-z][a-z0-9-]{0,62}");

    public Minted create(String tenant, String role) {
        return create(tenant, role, Optional.empty());
    }

    /** A new key for {@code tenant} with {@code role}, valid for {@code ttl} when given. */
    public Minted create(String tenant, String role, Optional<java.time.Duration> ttl) {
        if (!TENANT.matcher(tenant).matches())
            throw AegisException.invalid("tenant", "\"" + tenant + "\" must match " + TENANT.pattern());
        if (!ROLES.contains(role)) throw AegisException.invalid("role", "\"" + role + "\" is not a role; use one of " + ROLES);
        String id = hex(6);
        String secret = hex(32);
        String salt = hex(16);
        java.time.Instant now = clock.instant();
        ApiKey key = new ApiKey(id, tenant, role, salt, hash(salt, secret), now, Optional.empty(), ttl.map(now::plus));
        store.save(key);
        return new Minted(key, PREFIX + id + "_" + secret);
    }

    /** The live key behind {@code presented}, or empty if malformed, unknown, revoked or wrong. */
    public Optional<ApiKey> verify(String presented) {
        if (presented == null) return Optional.empty();
        Matcher m = SHAPE.matcher(presented.strip());
        if (!m.matches()) return Optional.empty();
        Optional<ApiKey> key = store.find(m.group(1));
        if (key.isEmpty() || !key.get().liveAt(clock.instant())) return Optional.empty();
        byte[] want = key.get().hash().getBytes(StandardCharsets.US_ASCII);
        byte[] got = hash(key.get().salt(), m.group(2)).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(want, got) ? key : Optional.empty();
    }

    /** Revokes a key of {@code tenant} at once: the next request with it fails. */
    public ApiKey revoke(String tenant, String id) {
        ApiKey key = store.find(id).filter(k -> k.tenant().equals(tenant))
                .orElseThrow(() -> AegisException.notFound("key \"" + id + "\" does not exist"));
        if (key.revokedAt().isPresent()) return key;
        ApiKey revoked = key.revoked(clock.instant());
        store.save(revoked);
        return revoked;
    }

    public java.util.List<ApiKey> list(String tenant) {
        return store.list(tenant);
    }

    private static String hash(String salt, String secret) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            sha.update(salt.getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(sha.digest(secret.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static String hex(int bytes) {
        byte[] raw = new byte[bytes];
        RANDOM.nextBytes(raw);
        return HexFormat.of().formatHex(raw);
    }
}
