-- stepflow store, SQLite dialect, migration 1: state machines, executions, frames, events.
CREATE TABLE IF NOT EXISTS state_machines (
    arn         TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    created     REAL NOT NULL,
    record      TEXT NOT NULL           -- StateMachineRecord as JSON
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
    start_date        REAL NOT NULL,
    version           INTEGER NOT NULL DEFAULT 0,   -- optimistic concurrency: +1 per commit
    owner             TEXT,                         -- process holding the lease
    lease_until       REAL NOT NULL DEFAULT 0,
    data              TEXT NOT NULL                 -- Execution fields as JSON
);
CREATE INDEX IF NOT EXISTS executions_by_machine ON executions (state_machine_arn, start_date);
CREATE INDEX IF NOT EXISTS executions_by_status ON executions (status, start_date);

CREATE TABLE IF NOT EXISTS frames (
    execution_arn TEXT NOT NULL,
    key           TEXT NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (execution_arn, key)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS events (
    execution_arn TEXT NOT NULL,
    id            INTEGER NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (execution_arn, id)
) WITHOUT ROWID;
