package dev.aegis.store;

import dev.aegis.core.LlmProvider;
import dev.aegis.core.LlmStore;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.jdbi.v3.core.Jdbi;

/** {@link LlmStore} in tables {@code llm_providers} and {@code llm_usage}. */
final class SqlLlmStore implements LlmStore {
    private final Jdbi write;
    private final Jdbi read;

    SqlLlmStore(Jdbi write, Jdbi read) {
        this.write = write;
        this.read = read;
    }

    @Override
    public Optional<LlmProvider> provider(String tenant) {
        return read.withHandle(h -> h.createQuery("SELECT * FROM llm_providers WHERE tenant = :tenant").bind("tenant", tenant)
                .map((rs, ctx) -> new LlmProvider(LlmProvider.Kind.parse(rs.getString("kind")).orElseThrow(),
                        rs.getString("base_url"), rs.getString("key_secret"), Columns.instant(rs, "updated_at")))
                .findOne());
    }

    @Override
    public boolean putProvider(String tenant, LlmProvider p) {
        return write.inTransaction(h -> {
            boolean existed = h.createQuery("SELECT COUNT(*) FROM llm_providers WHERE tenant = :tenant")
                    .bind("tenant", tenant).mapTo(Long.class).one() > 0;
            h.createUpdate("""
                            INSERT INTO llm_providers (tenant, kind, base_url, key_secret, updated_at)
                            VALUES (:tenant, :kind, :url, :secret, :at)
                            ON CONFLICT (tenant) DO UPDATE SET kind = excluded.kind, base_url = excluded.base_url,
                                key_secret = excluded.key_secret, updated_at = excluded.updated_at""")
                    .bind("tenant", tenant).bind("kind", p.kind().wire()).bind("url", p.baseUrl())
                    .bind("secret", p.keySecret()).bind("at", Columns.nanos(p.updatedAt())).execute();
            return existed;
        });
    }

    @Override
    public boolean deleteProvider(String tenant) {
        return write.withHandle(h -> h.createUpdate("DELETE FROM llm_providers WHERE tenant = :tenant").bind("tenant", tenant).execute()) > 0;
    }

    @Override
    public void meter(Metered c) {
        write.useHandle(h -> h.createUpdate("""
                        INSERT INTO llm_usage (tenant, agent, task_id, model, prompt_tokens, completion_tokens, at)
                        VALUES (:tenant, :agent, :task, :model, :prompt, :completion, :at)""")
                .bind("tenant", c.tenant()).bind("agent", c.agent()).bind("task", c.taskId()).bind("model", c.model())
                .bind("prompt", c.promptTokens()).bind("completion", c.completionTokens()).bind("at", Columns.nanos(c.at()))
                .execute());
    }

    @Override
    public List<Tokens> tokens(String tenant, Instant from, Instant to) {
        return read.withHandle(h -> h.createQuery("""
                        SELECT agent, COUNT(*) AS calls, SUM(prompt_tokens) AS prompt, SUM(completion_tokens) AS completion
                        FROM llm_usage WHERE tenant = :tenant AND at >= :from AND at < :to GROUP BY agent ORDER BY agent""")
                .bind("tenant", tenant).bind("from", Columns.nanos(from)).bind("to", Columns.nanos(to))
                .map((rs, ctx) -> new Tokens(rs.getString("agent"), rs.getLong("calls"), rs.getLong("prompt"), rs.getLong("completion")))
                .list());
    }

    @Override
    public Tokens taskTokens(String tenant, String taskId) {
        return read.withHandle(h -> h.createQuery("""
                        SELECT MIN(agent) AS agent, COUNT(*) AS calls, COALESCE(SUM(prompt_tokens), 0) AS prompt,
                               COALESCE(SUM(completion_tokens), 0) AS completion
                        FROM llm_usage WHERE task_id = :task AND tenant = :tenant""")
                .bind("tenant", tenant).bind("task", taskId)
                .map((rs, ctx) -> new Tokens(Optional.ofNullable(rs.getString("agent")).orElse("*"), rs.getLong("calls"),
                        rs.getLong("prompt"), rs.getLong("completion")))
                .one());
    }
}
