package dev.aegis.core;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Mints and checks API keys. A key reads {@code aeg_live_<id>_<secret>}: the id (public, 12 hex) finds the
 * stored row, the secret (256 bits) is kept only as SHA-256(salt || secret) and compared in constant time.
 */
public final class ApiKeys {
    public static final String PREFIX = "aeg_live_";
    private static final SecureRandom RANDOM = new SecureRandom();

    /**
     * How long a key read from the store is trusted without reading it again. Revocation through this object drops
     * the key at once; the TTL bounds how long a change made elsewhere (another node writing the same store) goes
     * unseen.
     */
    public static final java.time.Duration CACHE_TTL = java.time.Duration.ofSeconds(1);

    private final KeyStore store;
    private final Clock clock;
    /** Keys by id as last read from the store, so a request costs one SHA-256 and no store read. */
    private final java.util.Map<String, Cached> cache = new java.util.concurrent.ConcurrentHashMap<>();

    /** Bumped by every revocation once saved, so a read that raced it does not stay cached. */
    private final java.util.concurrent.atomic.AtomicLong revocations = new java.util.concurrent.atomic.AtomicLong();

    private record Cached(ApiKey key, long readAtMillis) {}

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
        String k = presented.strip();
        if (!shaped(k)) return Optional.empty();
        Optional<ApiKey> key = find(k.substring(PREFIX.length(), PREFIX.length() + 12));
        if (key.isEmpty() || !key.get().liveAt(clock.instant())) return Optional.empty();
        byte[] want = key.get().hash().getBytes(StandardCharsets.US_ASCII);
        byte[] got = hash(key.get().salt(), k.substring(PREFIX.length() + 13)).getBytes(StandardCharsets.US_ASCII);
        return MessageDigest.isEqual(want, got) ? key : Optional.empty();
    }

    /**
     * Whether {@code k} is {@code aeg_live_<12 hex>_<64 hex>}: checked by hand, on every request, where a regular
     * expression cost more than hashing the key.
     */
    static boolean shaped(String k) {
        int id = PREFIX.length(), sep = id + 12;
        if (k.length() != sep + 1 + 64 || !k.startsWith(PREFIX) || k.charAt(sep) != '_') return false;
        for (int i = id; i < k.length(); i++) {
            char c = k.charAt(i);
            if (i != sep && !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f')) return false;
        }
        return true;
    }

    /** The key with {@code id}, from the cache while it is fresh, else from the store. */
    private Optional<ApiKey> find(String id) {
        long now = clock.millis();
        Cached c = cache.get(id);
        if (c != null && now - c.readAtMillis() < CACHE_TTL.toMillis() && now >= c.readAtMillis()) return Optional.of(c.key());
        long generation = revocations.get();
        Optional<ApiKey> key = store.find(id);
        if (key.isEmpty()) {
            cache.remove(id);
        } else {
            cache.put(id, new Cached(key.get(), now));
            // A revocation saved after our read bumps the counter before it drops the entry: whichever of us is
            // last, the live row does not stay.
            if (revocations.get() != generation) cache.remove(id);
        }
        return key;
    }

    /** Revokes a key of {@code tenant} at once: the next request with it fails, on this node at once. */
    public ApiKey revoke(String tenant, String id) {
        ApiKey key = store.find(id).filter(k -> k.tenant().equals(tenant))
                .orElseThrow(() -> AegisException.notFound("key \"" + id + "\" does not exist"));
        if (key.revokedAt().isPresent()) return key;
        ApiKey revoked = key.revoked(clock.instant());
        store.save(revoked);
        revocations.incrementAndGet();
        cache.remove(id);
        return revoked;
    }

    public java.util.List<ApiKey> list(String tenant) {
        return store.list(tenant);
    }

    /** Cloned per hash: looking the algorithm up among the providers costs more than hashing a key. */
    private static final MessageDigest SHA_256;

    static {
        try {
            SHA_256 = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static String hash(String salt, String secret) {
        try {
            MessageDigest sha = (MessageDigest) SHA_256.clone();
            sha.update(salt.getBytes(StandardCharsets.US_ASCII));
            return HexFormat.of().formatHex(sha.digest(secret.getBytes(StandardCharsets.US_ASCII)));
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("the JDK's SHA-256 can be cloned", e);
        }
    }

    private static String hex(int bytes) {
        byte[] raw = new byte[bytes];
        RANDOM.nextBytes(raw);
        return HexFormat.of().formatHex(raw);
    }
}
