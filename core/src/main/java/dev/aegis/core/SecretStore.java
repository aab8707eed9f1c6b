package dev.aegis.core;

import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;

/**
 * Tenant secrets by name. The adapter keeps values encrypted at rest; a value leaves only through {@link #reveal},
 * on its way into a sandbox's environment. Names and times are not secret.
 */
public interface SecretStore {
    /** What may be shown of a secret: never its value. */
    record Info(String name, Instant createdAt, Instant updatedAt) {}

    /** Creates or replaces {@code tenant}'s secret {@code name}; returns whether it existed before. */
    boolean put(String tenant, String name, String value, Instant at);

    /** Returns whether it existed. */
    boolean delete(String tenant, String name);

    /** The tenant's secrets, by name. */
    List<Info> list(String tenant);

    /** The decrypted values of those of {@code names} that exist; a name that does not is absent from the map. */
    Map<String, String> reveal(String tenant, Collection<String> names);
}
