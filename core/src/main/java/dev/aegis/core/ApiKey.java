package dev.aegis.core;

import java.time.Instant;
import java.util.Optional;

/**
 * A stored API key: never the secret, only a salted hash of it. The key a client holds reads
 * {@code aeg_live_<id>_<secret>}; {@code id} finds the row, the secret is checked in constant time.
 */
public record ApiKey(String id, String tenant, String role, String salt, String hash, Instant createdAt,
                     Optional<Instant> revokedAt) {}
