package dev.aegis.core;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Where the LLM gateway keeps each tenant's provider and the tokens every call used (the metering rows behind
 * {@code /v1/usage}). Nothing here is secret: the provider holds the key's name, never the key.
 */
public interface LlmStore {
    Optional<LlmProvider> provider(String tenant);

    /** Creates or replaces the tenant's provider; returns whether one existed. */
    boolean putProvider(String tenant, LlmProvider provider);

    /** Returns whether one existed. */
    boolean deleteProvider(String tenant);

    /** One call's tokens, as counted when it ended. */
    record Metered(String tenant, String agent, String taskId, String model, long promptTokens, long completionTokens,
                   Instant at) {}

    void meter(Metered call);

    /** Calls and tokens of one agent (or, with agent {@code "*"}, of several together). */
    record Tokens(String agent, long calls, long promptTokens, long completionTokens) {
        public static Tokens none(String agent) {
            return new Tokens(agent, 0, 0, 0);
        }

        public long total() {
            return promptTokens + completionTokens;
        }

        public Tokens plus(Tokens o) {
            return new Tokens(agent, calls + o.calls, promptTokens + o.promptTokens, completionTokens + o.completionTokens);
        }
    }

    /** Per agent, the tenant's calls made in {@code [from, to)}, sorted by agent. */
    List<Tokens> tokens(String tenant, Instant from, Instant to);

    /** One task's calls (agent {@code "*"} when it made none). */
    Tokens taskTokens(String tenant, String taskId);
}
