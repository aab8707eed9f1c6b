package dev.aegis.core;

import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * What a caller asks the {@link AuditLog} to record; the log adds sequence number, time and hashes.
 *
 * @param tenant   the tenant the action belongs to ({@code "-"} for platform-wide actions)
 * @param actor    who acted: {@code "key:<key id>"}, {@code "agent:<instance id>"}, {@code "system"}
 * @param agent    the agent involved, if any (a filter of {@link AuditQuery})
 * @param task     the task involved, if any (a filter of {@link AuditQuery})
 * @param action   a dotted verb, e.g. {@code api.deploy}, {@code policy.egress}, {@code lifecycle.hot}
 * @param target   what was acted on: a host:port, a tool name, a lock, a secret's <em>name</em>
 * @param decision for policy checks, allow or deny; {@link AuditDecision#NONE} otherwise
 * @param reason   why (required for a deny, empty otherwise allowed)
 * @param details  flat string map, stored sorted by key. Values are strings so that the canonical encoding is
 *                 trivial to reproduce; never put a secret's value here, only its name or hash
 */
public record AuditEvent(String tenant, String actor, Optional<String> agent, Optional<String> task, String action,
                         String target, AuditDecision decision, String reason, Map<String, String> details) {
    public AuditEvent {
        require("tenant", tenant);
        require("actor", actor);
        require("action", action);
        if (target == null) throw AegisException.invalid("target", "must not be null (use \"\" for none)");
        if (agent == null || task == null || decision == null || reason == null || details == null) {
            throw AegisException.invalid("event", "agent, task, decision, reason and details must not be null "
                    + "(use Optional.empty(), AuditDecision.NONE, \"\" and Map.of())");
        }
        if (decision == AuditDecision.DENY && reason.isBlank()) {
            throw AegisException.invalid("reason", "a deny must say why");
        }
        details.forEach((k, v) -> {
            if (k == null || v == null) throw AegisException.invalid("details", "keys and values must not be null");
        });
        details = java.util.Collections.unmodifiableMap(new TreeMap<>(details));
    }

    private static void require(String field, String value) {
        if (value == null || value.isBlank()) throw AegisException.invalid(field, "must not be blank");
    }

    /** A state-changing action that is not a policy decision. */
    public static AuditEvent of(String tenant, String actor, String action, String target, Map<String, String> details) {
        return new AuditEvent(tenant, actor, Optional.empty(), Optional.empty(), action, target, AuditDecision.NONE,
                "", details);
    }

    /** A policy decision; a deny carries its reason. */
    public static AuditEvent decided(String tenant, String actor, String action, String target, Decision decision) {
        String reason = decision instanceof Decision.Deny d ? d.reason() : "";
        return new AuditEvent(tenant, actor, Optional.empty(), Optional.empty(), action, target,
                AuditDecision.of(decision), reason, Map.of());
    }

    public AuditEvent withAgent(String agentName) {
        return new AuditEvent(tenant, actor, Optional.of(agentName), task, action, target, decision, reason, details);
    }

    public AuditEvent withActor(String who) {
        return new AuditEvent(tenant, who, agent, task, action, target, decision, reason, details);
    }

    public AuditEvent withTask(String taskId) {
        return new AuditEvent(tenant, actor, agent, Optional.of(taskId), action, target, decision, reason, details);
    }

    public AuditEvent withDetails(Map<String, String> more) {
        Map<String, String> all = new TreeMap<>(details);
        all.putAll(more);
        return new AuditEvent(tenant, actor, agent, task, action, target, decision, reason, all);
    }
}
