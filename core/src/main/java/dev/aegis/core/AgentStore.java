package dev.aegis.core;

import java.util.List;
import java.util.Optional;

/** Deployed agents, per tenant. */
public interface AgentStore {
    /** Inserts or replaces the tenant's agent of the same name. */
    void save(Agent agent);

    Optional<Agent> find(String tenant, String name);

    List<Agent> list(String tenant);
}
