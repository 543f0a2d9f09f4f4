-- stepflow store, PostgreSQL dialect, migration 1: state machines, executions, frames, events.
CREATE TABLE IF NOT EXISTS state_machines (
    arn         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created     DOUBLE PRECISION NOT NULL,
    record      TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS definitions (
    revision_id       TEXT PRIMARY KEY,
    state_machine_arn TEXT NOT NULL,
    definition        TEXT NOT NULL
);

CREATE TABLE IF NOT EXISTS executions (
    arn               TEXT PRIMARY KEY,
    state_machine_arn TEXT NOT NULL,
    status            TEXT NOT NULL,
    start_date        DOUBLE PRECISION NOT NULL,
    version           BIGINT NOT NULL DEFAULT 0,
    owner             TEXT,
    lease_until       DOUBLE PRECISION NOT NULL DEFAULT 0,
    data              TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (state_machine_arn, start_date);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status, start_date);

CREATE TABLE IF NOT EXISTS frames (
    execution_arn TEXT NOT NULL,
    key           TEXT NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (execution_arn, key)
);

CREATE TABLE IF NOT EXISTS events (
    execution_arn TEXT NOT NULL,
    id            BIGINT NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (execution_arn, id)
);
