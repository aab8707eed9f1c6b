package dev.aegis.core;

import java.time.Instant;
import java.util.Optional;

/**
 * A filter over the audit log, all parts optional and combined with AND. Paging is by sequence number:
 * results have {@code seq > afterSeq}, ascending, at most {@code limit}; ask again with the last seq seen.
 */
public record AuditQuery(Optional<String> tenant, Optional<String> agent, Optional<String> task,
                         Optional<String> action, Optional<Instant> since, Optional<Instant> until,
                         long afterSeq, int limit) {
    public static final int MAX_LIMIT = 10_000;

    public AuditQuery {
        if (afterSeq < 0) throw AegisException.invalid("after", afterSeq + " is negative (use 0 for the start)");
        if (limit < 1 || limit > MAX_LIMIT) {
            throw AegisException.invalid("limit", limit + " is out of range (use 1.." + MAX_LIMIT + ")");
        }
    }

    /** Everything, from the start, first page of {@code limit}. */
    public static AuditQuery all(int limit) {
        return new AuditQuery(Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty(), Optional.empty(), 0, limit);
    }

    public AuditQuery tenant(String t) {
        return new AuditQuery(Optional.of(t), agent, task, action, since, until, afterSeq, limit);
    }

    public AuditQuery agent(String a) {
        return new AuditQuery(tenant, Optional.of(a), task, action, since, until, afterSeq, limit);
    }

    public AuditQuery task(String t) {
        return new AuditQuery(tenant, agent, Optional.of(t), action, since, until, afterSeq, limit);
    }

    public AuditQuery action(String a) {
        return new AuditQuery(tenant, agent, task, Optional.of(a), since, until, afterSeq, limit);
    }

    public AuditQuery since(Instant t) {
        return new AuditQuery(tenant, agent, task, action, Optional.of(t), until, afterSeq, limit);
    }

    public AuditQuery until(Instant t) {
        return new AuditQuery(tenant, agent, task, action, since, Optional.of(t), afterSeq, limit);
    }

    public AuditQuery after(long seq) {
        return new AuditQuery(tenant, agent, task, action, since, until, seq, limit);
    }

    /** True when {@code r} passes every filter but the paging ones. {@code until} is exclusive. */
    public boolean matches(AuditRecord r) {
        AuditEvent e = r.event();
        return tenant.map(e.tenant()::equals).orElse(true)
                && agent.map(a -> e.agent().equals(Optional.of(a))).orElse(true)
                && task.map(t -> e.task().equals(Optional.of(t))).orElse(true)
                && action.map(e.action()::equals).orElse(true)
                && since.map(s -> !r.time().isBefore(s)).orElse(true)
                && until.map(u -> r.time().isBefore(u)).orElse(true);
    }
}
