-- One portable schema: the same file runs on SQLite and PostgreSQL, so nothing here may use
-- vendor types or syntax (no SERIAL, no AUTOINCREMENT, no TIMESTAMPTZ).
--
-- Timestamps are BIGINT nanoseconds since 1970-01-01T00:00:00Z. The JDK clock has nanosecond
-- resolution here, and a store that rounds would hand back a record unequal to the one saved;
-- integers also sort and compare identically on both databases. Range: years 1678 to 2262.
-- Read one in psql with to_timestamp(created_at / 1e9), in sqlite3 with
-- datetime(created_at / 1000000000, 'unixepoch').
-- Enums (state, from_state, to_state) are stored by their Java name.

CREATE TABLE agents (
    tenant        TEXT   NOT NULL,
    name          TEXT   NOT NULL,
    version       TEXT   NOT NULL,
    manifest_yaml TEXT   NOT NULL,
    code_dir      TEXT   NOT NULL,
    digest        TEXT   NOT NULL,
    deployed_at   BIGINT NOT NULL,
    PRIMARY KEY (tenant, name)
);

CREATE TABLE tasks (
    id            TEXT    NOT NULL PRIMARY KEY,
    tenant        TEXT    NOT NULL,
    agent         TEXT    NOT NULL,
    input         TEXT    NOT NULL,
    state         TEXT    NOT NULL,
    result        TEXT,
    error_code    TEXT,
    error_message TEXT,
    exit_code     INTEGER,
    created_at    BIGINT  NOT NULL,
    started_at    BIGINT,
    finished_at   BIGINT
);
CREATE INDEX tasks_tenant_created ON tasks (tenant, created_at);
CREATE INDEX tasks_state ON tasks (state);

-- seq counts from 1 per task; it is assigned by the INSERT itself (MAX + 1), which both databases accept.
CREATE TABLE transitions (
    task_id     TEXT   NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq         BIGINT NOT NULL,
    instance_id TEXT   NOT NULL,
    from_state  TEXT,
    to_state    TEXT   NOT NULL,
    at          BIGINT NOT NULL,
    reason      TEXT   NOT NULL,
    PRIMARY KEY (task_id, seq)
);

CREATE TABLE task_logs (
    task_id TEXT   NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
    seq     BIGINT NOT NULL,
    at      BIGINT NOT NULL,
    line    TEXT   NOT NULL,
    PRIMARY KEY (task_id, seq)
);

-- Never the key itself: a salted hash of its secret part.
CREATE TABLE api_keys (
    id         TEXT   NOT NULL PRIMARY KEY,
    tenant     TEXT   NOT NULL,
    role       TEXT   NOT NULL,
    salt       TEXT   NOT NULL,
    hash       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
