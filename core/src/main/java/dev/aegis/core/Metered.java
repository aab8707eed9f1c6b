package dev.aegis.core;

import java.util.Optional;

/**
 * An {@link AgentRuntime} that can say what an instance used: live while it runs, and its final figures after
 * {@code execute} returned, until {@code terminate}. Empty for instances it does not know.
 */
public interface Metered {
    Optional<Usage> usage(InstanceId id);
}
