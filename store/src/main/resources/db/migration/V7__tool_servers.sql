-- The tenants' MCP tool servers. Only the registration as given is stored: loading re-parses it, so a server always
-- comes back checked by the running version's rules (like agents' manifests).
CREATE TABLE tool_servers (
    tenant     TEXT   NOT NULL,
    name       TEXT   NOT NULL,
    spec_json  TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (tenant, name)
);
