package dev.aegis.store;

import dev.aegis.core.ToolServer;
import dev.aegis.core.ToolServerStore;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/** {@link ToolServerStore} in table {@code tool_servers}: the registration text, re-parsed on every load. */
final class SqlToolServerStore implements ToolServerStore {
    private final Jdbi write;
    private final Jdbi read;

    SqlToolServerStore(Jdbi write, Jdbi read) {
        this.write = write;
        this.read = read;
    }

    @Override
    public boolean save(ToolServer s) {
        return write.inTransaction(h -> {
            boolean existed = h.createQuery("SELECT COUNT(*) FROM tool_servers WHERE tenant = :tenant AND name = :name")
                    .bind("tenant", s.tenant()).bind("name", s.name()).mapTo(Long.class).one() > 0;
            h.createUpdate("""
                            INSERT INTO tool_servers (tenant, name, spec_json, created_at) VALUES (:tenant, :name, :spec, :at)
                            ON CONFLICT (tenant, name) DO UPDATE SET spec_json = excluded.spec_json, created_at = excluded.created_at""")
                    .bind("tenant", s.tenant()).bind("name", s.name()).bind("spec", s.spec()).bind("at", Columns.nanos(s.createdAt()))
                    .execute();
            return !existed;
        });
    }

    @Override
    public Optional<ToolServer> find(String tenant, String name) {
        return read.withHandle(h -> h.createQuery("SELECT * FROM tool_servers WHERE tenant = :tenant AND name = :name")
                .bind("tenant", tenant).bind("name", name).map((rs, ctx) -> server(rs)).findOne());
    }

    @Override
    public List<ToolServer> list(String tenant) {
        return read.withHandle(h -> h.createQuery("SELECT * FROM tool_servers WHERE tenant = :tenant ORDER BY name")
                .bind("tenant", tenant).map((rs, ctx) -> server(rs)).list());
    }

    @Override
    public boolean delete(String tenant, String name) {
        return write.withHandle(h -> h.createUpdate("DELETE FROM tool_servers WHERE tenant = :tenant AND name = :name")
                .bind("tenant", tenant).bind("name", name).execute()) > 0;
    }

    private static ToolServer server(ResultSet rs) throws SQLException {
        return ToolServer.parse(rs.getString("tenant"), rs.getString("spec_json"), Columns.instant(rs, "created_at"));
    }
}
