package dev.aegis.store;

import dev.aegis.core.ApiKey;
import dev.aegis.core.KeyStore;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/** {@link KeyStore} in table {@code api_keys}; saving a key of a known id replaces it (that is how a key is revoked). */
final class SqlKeyStore implements KeyStore {
    private final Jdbi write;
    private final Jdbi read;

    SqlKeyStore(Jdbi write, Jdbi read) {
        this.write = write;
        this.read = read;
    }

    @Override
    public void save(ApiKey key) {
        write.useHandle(h -> h.createUpdate("""
                        INSERT INTO api_keys (id, tenant, role, salt, hash, created_at, revoked_at, expires_at)
                        VALUES (:id, :tenant, :role, :salt, :hash, :created, :revoked, :expires)
                        ON CONFLICT (id) DO UPDATE SET tenant = excluded.tenant, role = excluded.role,
                            salt = excluded.salt, hash = excluded.hash, created_at = excluded.created_at,
                            revoked_at = excluded.revoked_at, expires_at = excluded.expires_at""")
                .bind("id", key.id())
                .bind("tenant", key.tenant())
                .bind("role", key.role())
                .bind("salt", key.salt())
                .bind("hash", key.hash())
                .bind("created", Columns.nanos(key.createdAt()))
                .bind("revoked", Columns.nanos(key.revokedAt()))
                .bind("expires", Columns.nanos(key.expiresAt()))
                .execute());
    }

    @Override
    public Optional<ApiKey> find(String id) {
        return read.withHandle(h -> h.createQuery("SELECT * FROM api_keys WHERE id = :id")
                .bind("id", id)
                .map((rs, ctx) -> key(rs))
                .findOne());
    }

    @Override
    public java.util.List<ApiKey> list(String tenant) {
        return read.withHandle(h -> h.createQuery("SELECT * FROM api_keys WHERE tenant = :tenant ORDER BY created_at, id")
                .bind("tenant", tenant).map((rs, ctx) -> key(rs)).list());
    }

    @Override
    public boolean isEmpty() {
        return read.withHandle(h -> h.createQuery("SELECT COUNT(*) FROM (SELECT 1 FROM api_keys LIMIT 1) k")
                .mapTo(Long.class).one()) == 0;
    }

    private static ApiKey key(ResultSet rs) throws SQLException {
        return new ApiKey(rs.getString("id"), rs.getString("tenant"), rs.getString("role"), rs.getString("salt"),
                rs.getString("hash"), Columns.instant(rs, "created_at"), Columns.optionalInstant(rs, "revoked_at"),
                Columns.optionalInstant(rs, "expires_at"));
    }
}
