package dev.aegis.core;

import java.util.Optional;

/** API keys by id. */
public interface KeyStore {
    void save(ApiKey key);

    Optional<ApiKey> find(String id);

    /** The tenant's keys, oldest first. */
    java.util.List<ApiKey> list(String tenant);

    /** Whether any key exists yet; the first start creates the admin key. */
    boolean isEmpty();
}
