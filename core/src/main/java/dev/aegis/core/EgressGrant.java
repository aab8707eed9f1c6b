package dev.aegis.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * Whose egress a listener carries and what it may reach. Both suppliers are asked at every new connection
 * and every forwarded request, so a redeploy that changes the allow-list, or the next task on a warm
 * instance, applies at once without reopening anything.
 *
 * @param tenant   the tenant, for the audit events
 * @param agent    the agent's name, for the audit events
 * @param instance the sandbox instance; the proxy counts bytes and closes listeners per instance
 * @param task     the task the instance is running now, if any
 * @param rules    the current {@code permissions.network.egress} entries
 */
public record EgressGrant(String tenant, String agent, InstanceId instance, Supplier<Optional<String>> task,
                          Supplier<List<EgressRule>> rules) {
    public EgressGrant {
        if (tenant == null || tenant.isBlank()) throw new IllegalArgumentException("grant: tenant must not be blank");
        if (agent == null || agent.isBlank()) throw new IllegalArgumentException("grant: agent must not be blank");
        Objects.requireNonNull(instance, "instance");
        Objects.requireNonNull(task, "task");
        Objects.requireNonNull(rules, "rules");
    }

    /** A grant with a fixed allow-list, parsed from manifest entries such as {@code api.openai.com:443}. */
    public static EgressGrant of(String tenant, String agent, InstanceId instance, Supplier<Optional<String>> task, List<String> entries) {
        List<EgressRule> rules = entries.stream().map(EgressRule::parse).toList();
        return new EgressGrant(tenant, agent, instance, task, () -> rules);
    }
}
