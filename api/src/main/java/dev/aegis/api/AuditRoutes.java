package dev.aegis.api;

import dev.aegis.core.AegisException;
import dev.aegis.core.ApiKey;
import dev.aegis.core.AuditCheckpoint;
import dev.aegis.core.AuditLog;
import dev.aegis.core.AuditProof;
import dev.aegis.core.AuditQuery;
import dev.aegis.core.AuditRecord;
import dev.aegis.core.AuditVerification;
import io.javalin.http.Context;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /v1/audit}: query, verify, proofs, export and the signing key. The platform admin (an admin key of tenant
 * {@code default}) sees every tenant (and may filter by {@code tenant}); any other key sees only its own tenant's.
 */
final class AuditRoutes {
    private final AuditLog audit;

    AuditRoutes(AuditLog audit) {
        this.audit = audit;
    }

    void query(Context ctx, ApiKey key) {
        AuditQuery q = AuditQuery.all((int) Params.integer(ctx, "limit", 100, 1, AuditQuery.MAX_LIMIT));
        String tenant = ctx.queryParam("tenant");
        if (!platformAdmin(key)) {
            if (tenant != null && !tenant.equals(key.tenant()))
                throw new AegisException("forbidden", "tenant: only the platform admin reads another tenant's audit records", "tenant");
            tenant = key.tenant();
        }
        if (tenant != null) q = q.tenant(tenant);
        if (ctx.queryParam("agent") != null) q = q.agent(ctx.queryParam("agent"));
        if (ctx.queryParam("task") != null) q = q.task(ctx.queryParam("task"));
        if (ctx.queryParam("action") != null) q = q.action(ctx.queryParam("action"));
        if (ctx.queryParam("since") != null) q = q.since(Params.instant(ctx, "since", null));
        if (ctx.queryParam("until") != null) q = q.until(Params.instant(ctx, "until", null));
        q = q.after(Params.integer(ctx, "after", 0, 0, Long.MAX_VALUE));
        List<AuditRecord> records = audit.query(q);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("records", records.stream().map(AuditRoutes::view).toList());
        body.put("last_seq", audit.lastSeq());
        if (!records.isEmpty()) body.put("next_after", records.getLast().seq());
        ctx.json(body);
    }

    void verify(Context ctx) {
        long from = Params.integer(ctx, "from", 1, 1, Long.MAX_VALUE);
        ctx.json(switch (audit.verify(from, audit.publicKey(), (seq, last) -> { })) {
            case AuditVerification.Intact i -> Map.of("intact", true, "from_seq", i.fromSeq(), "last_seq", i.lastSeq(),
                    "records", i.records(), "checkpoints", i.checkpoints(), "last_checkpoint_seq", i.lastCheckpointSeq());
            case AuditVerification.Broken b -> Map.of("intact", false, "first_bad_seq", b.firstBadSeq(), "problem", b.problem());
        });
    }

    void proof(Context ctx, ApiKey key) {
        long seq = longPath(ctx, "seq");
        // A proof shows the record's hash: only for records the key may read.
        List<AuditRecord> record = audit.query(AuditQuery.all(1).after(seq - 1));
        if (record.isEmpty() || record.getFirst().seq() != seq
                || !platformAdmin(key) && !record.getFirst().event().tenant().equals(key.tenant()))
            throw AegisException.notFound("audit record " + seq + " does not exist");
        AuditProof p = audit.proof(seq);
        AuditCheckpoint c = p.checkpoint();
        Map<String, Object> checkpoint = new LinkedHashMap<>();
        checkpoint.put("from_seq", c.fromSeq());
        checkpoint.put("to_seq", c.toSeq());
        checkpoint.put("time", c.time().toString());
        checkpoint.put("head_hash", c.headHash());
        checkpoint.put("merkle_root", c.merkleRoot());
        checkpoint.put("signature", c.signature());
        ctx.json(Map.of("seq", p.seq(), "record_hash", p.recordHash(), "leaf_index", p.leafIndex(), "path", p.path(),
                "checkpoint", checkpoint));
    }

    void export(Context ctx) throws Exception {
        long from = Params.integer(ctx, "from", 1, 1, Long.MAX_VALUE);
        ctx.contentType("application/x-ndjson");
        audit.export(from, ctx.res().getOutputStream());
    }

    void publicKey(Context ctx) {
        ctx.contentType("application/x-pem-file").result(audit.publicKey());
    }

    /** The operator: an admin key of the platform tenant. Whole-log operations (verify, export) are theirs. */
    static boolean platformAdmin(ApiKey key) {
        return key.role().equals("admin") && key.tenant().equals(KeyRoutes.PLATFORM_TENANT);
    }

    static void requirePlatformAdmin(ApiKey key) {
        if (!platformAdmin(key))
            throw new AegisException("forbidden", "the whole audit log is the platform admin's (an admin key of tenant "
                    + KeyRoutes.PLATFORM_TENANT + ")");
    }

    static Map<String, Object> view(AuditRecord r) {
        Map<String, Object> v = new LinkedHashMap<>();
        v.put("seq", r.seq());
        v.put("time", r.time().toString());
        v.put("tenant", r.event().tenant());
        v.put("actor", r.event().actor());
        r.event().agent().ifPresent(a -> v.put("agent", a));
        r.event().task().ifPresent(t -> v.put("task", t));
        v.put("action", r.event().action());
        v.put("target", r.event().target());
        v.put("decision", r.event().decision().wire());
        if (!r.event().reason().isEmpty()) v.put("reason", r.event().reason());
        v.put("details", r.event().details());
        v.put("prev_hash", r.prevHash());
        v.put("hash", r.hash());
        return v;
    }

    private static long longPath(Context ctx, String name) {
        try {
            return Long.parseLong(ctx.pathParam(name));
        } catch (NumberFormatException e) {
            throw AegisException.invalid(name, "\"" + ctx.pathParam(name) + "\" is not a sequence number");
        }
    }
}
