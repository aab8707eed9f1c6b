-- Each tenant's LLM provider (bring your own key): the protocol, the base URL and the NAME of the tenant secret that
-- holds the key. The key itself stays in the secrets table, sealed; it is read at each call and never stored here.
CREATE TABLE llm_providers (
    tenant     TEXT   NOT NULL PRIMARY KEY,
    kind       TEXT   NOT NULL,
    base_url   TEXT   NOT NULL,
    key_secret TEXT   NOT NULL,
    updated_at BIGINT NOT NULL
);

-- One row per LLM call that used tokens: the metering behind /v1/usage and a task's llm figures. No foreign key to
-- tasks: rows are written while the task runs, and usage outlives whatever happens to task rows.
CREATE TABLE llm_usage (
    tenant            TEXT   NOT NULL,
    agent             TEXT   NOT NULL,
    task_id           TEXT   NOT NULL,
    model             TEXT   NOT NULL,
    prompt_tokens     BIGINT NOT NULL,
    completion_tokens BIGINT NOT NULL,
    at                BIGINT NOT NULL
);
CREATE INDEX llm_usage_tenant_at ON llm_usage (tenant, at);
CREATE INDEX llm_usage_task ON llm_usage (task_id);
