package dev.aegis.store;

import dev.aegis.core.Agent;
import dev.aegis.core.AgentStore;
import dev.aegis.core.ManifestParser;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/**
 * {@link AgentStore} in table {@code agents}. Only the manifest's text is stored: loading re-parses it, so an
 * agent always comes back validated by the parser of the running version.
 */
final class SqlAgentStore implements AgentStore {
    private final Jdbi write;
    private final Jdbi read;

    SqlAgentStore(Jdbi write, Jdbi read) {
        this.write = write;
        this.read = read;
    }

    @Override
    public void save(Agent agent) {
        write.useHandle(h -> h.createUpdate("""
                        INSERT INTO agents (tenant, name, version, manifest_yaml, code_dir, digest, deployed_at)
                        VALUES (:tenant, :name, :version, :yaml, :dir, :digest, :at)
                        ON CONFLICT (tenant, name) DO UPDATE SET version = excluded.version,
                            manifest_yaml = excluded.manifest_yaml, code_dir = excluded.code_dir,
                            digest = excluded.digest, deployed_at = excluded.deployed_at""")
                .bind("tenant", agent.tenant())
                .bind("name", agent.name())
                .bind("version", agent.manifest().version())
                .bind("yaml", agent.manifestYaml())
                .bind("dir", agent.codeDir().toString())
                .bind("digest", agent.digest())
                .bind("at", Columns.nanos(agent.deployedAt()))
                .execute());
    }

    @Override
    public Optional<Agent> find(String tenant, String name) {
        return read.withHandle(h -> h.createQuery("SELECT * FROM agents WHERE tenant = :tenant AND name = :name")
                .bind("tenant", tenant)
                .bind("name", name)
                .map((rs, ctx) -> agent(rs))
                .findOne());
    }

    @Override
    public List<Agent> list(String tenant) {
        return read.withHandle(h -> h.createQuery("SELECT * FROM agents WHERE tenant = :tenant ORDER BY name")
                .bind("tenant", tenant)
                .map((rs, ctx) -> agent(rs))
                .list());
    }

    private static Agent agent(ResultSet rs) throws SQLException {
        String tenant = rs.getString("tenant");
        String yaml = rs.getString("manifest_yaml");
        String source = "stored agent " + tenant + "/" + rs.getString("name") + "/agent.yaml";
        return new Agent(tenant, ManifestParser.parse(yaml, source), yaml, Path.of(rs.getString("code_dir")),
                rs.getString("digest"), Columns.instant(rs, "deployed_at"));
    }
}
