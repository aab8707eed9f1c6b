package dev.aegis.store;

import dev.aegis.core.SecretStore;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jdbi.v3.core.Jdbi;

/** {@link SecretStore} in table {@code secrets}: values sealed by a {@link SecretCipher}, never stored in clear. */
public final class SqlSecretStore implements SecretStore {
    private final Jdbi write;
    private final Jdbi read;
    private final SecretCipher cipher;

    SqlSecretStore(Jdbi write, Jdbi read, SecretCipher cipher) {
        this.write = write;
        this.read = read;
        this.cipher = cipher;
    }

    @Override
    public boolean put(String tenant, String name, String value, Instant at) {
        SecretCipher.Sealed s = cipher.seal(tenant, name, value);
        return write.inTransaction(h -> {
            boolean existed = h.createQuery("SELECT COUNT(*) FROM secrets WHERE tenant = :tenant AND name = :name")
                    .bind("tenant", tenant).bind("name", name).mapTo(Long.class).one() > 0;
            h.createUpdate("""
                            INSERT INTO secrets (tenant, name, key_id, nonce, ciphertext, created_at, updated_at)
                            VALUES (:tenant, :name, :key, :nonce, :ct, :at, :at)
                            ON CONFLICT (tenant, name) DO UPDATE SET key_id = excluded.key_id, nonce = excluded.nonce,
                                ciphertext = excluded.ciphertext, updated_at = excluded.updated_at""")
                    .bind("tenant", tenant).bind("name", name).bind("key", s.keyId())
                    .bind("nonce", b64(s.nonce())).bind("ct", b64(s.ciphertext())).bind("at", Columns.nanos(at))
                    .execute();
            return existed;
        });
    }

    @Override
    public boolean delete(String tenant, String name) {
        return write.withHandle(h -> h.createUpdate("DELETE FROM secrets WHERE tenant = :tenant AND name = :name")
                .bind("tenant", tenant).bind("name", name).execute()) > 0;
    }

    @Override
    public List<Info> list(String tenant) {
        return read.withHandle(h -> h.createQuery("SELECT name, created_at, updated_at FROM secrets WHERE tenant = :tenant ORDER BY name")
                .bind("tenant", tenant)
                .map((rs, ctx) -> new Info(rs.getString("name"), Columns.instant(rs, "created_at"), Columns.instant(rs, "updated_at")))
                .list());
    }

    @Override
    public Map<String, String> reveal(String tenant, Collection<String> names) {
        if (names.isEmpty()) return Map.of();
        List<Row> rows = read.withHandle(h -> h.createQuery("SELECT * FROM secrets WHERE tenant = :tenant AND name IN (<names>)")
                .bind("tenant", tenant).bindList("names", List.copyOf(names)).map((rs, ctx) -> row(rs)).list());
        Map<String, String> values = new HashMap<>();
        for (Row r : rows) values.put(r.name, cipher.open(r.tenant, r.name, r.sealed));
        return values;
    }

    /** What {@link #check()} found: how many stored secrets there are, and those this key cannot open. */
    public record Check(int total, List<String> failures) {}

    /**
     * Opens every stored secret of every tenant with this node's key, so a node started with the wrong key refuses
     * to start instead of failing each task later. A few thousand secrets take milliseconds.
     */
    public Check check() {
        List<Row> rows = read.withHandle(h -> h.createQuery("SELECT * FROM secrets ORDER BY tenant, name").map((rs, ctx) -> row(rs)).list());
        List<String> failures = new ArrayList<>();
        for (Row r : rows) {
            try {
                cipher.open(r.tenant, r.name, r.sealed);
            } catch (SecretCipher.WrongKey e) {
                failures.add(e.getMessage());
            }
        }
        return new Check(rows.size(), failures);
    }

    private record Row(String tenant, String name, SecretCipher.Sealed sealed) {}

    private static Row row(ResultSet rs) throws SQLException {
        return new Row(rs.getString("tenant"), rs.getString("name"), new SecretCipher.Sealed(rs.getString("key_id"),
                Base64.getDecoder().decode(rs.getString("nonce")), Base64.getDecoder().decode(rs.getString("ciphertext"))));
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }
}
