package dev.aegis.core;

import java.util.List;
import java.util.Optional;

/** Where the tenants' tool server registrations are kept (the metadata store). */
public interface ToolServerStore {
    /** Adds or replaces the tenant's server of that name; true when it was new. */
    boolean save(ToolServer server);

    Optional<ToolServer> find(String tenant, String name);

    /** The tenant's servers by name. */
    List<ToolServer> list(String tenant);

    /** True when there was one to delete. */
    boolean delete(String tenant, String name);
}
