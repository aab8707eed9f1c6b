package dev.aegis.core;

import java.time.Instant;
import java.util.Optional;

/**
 * A stored API key: never the secret, only a salted hash of it. The key a client holds reads
 * {@code aeg_live_<id>_<secret>}; {@code id} finds the row, the secret is checked in constant time.
 */
public record ApiKey(String id, String tenant, String role, String salt, String hash, Instant createdAt,
                     Optional<Instant> revokedAt, Optional<Instant> expiresAt) {
    /** Usable at {@code now}: not revoked and not expired. */
    public boolean liveAt(Instant now) {
        return revokedAt.isEmpty() && expiresAt.map(now::isBefore).orElse(true);
    }

    public ApiKey revoked(Instant at) {
        return new ApiKey(id, tenant, role, salt, hash, createdAt, Optional.of(at), expiresAt);
    }
}
