-- The Glue Data Catalog stand-in (db-refresh.md B4).
CREATE TABLE databases (
    name        TEXT PRIMARY KEY,
    description TEXT,
    created_at  TEXT NOT NULL
);

CREATE TABLE tables (
    database   TEXT,
    name       TEXT,
    table_type TEXT NOT NULL DEFAULT 'EXTERNAL_TABLE',
    location   TEXT NOT NULL,
    format     TEXT NOT NULL DEFAULT 'parquet',
    parameters TEXT NOT NULL DEFAULT '{}',   -- JSON: classification, snapshot_dt, comment, ...
    created_at TEXT,
    updated_at TEXT,
    PRIMARY KEY (database, name)
);

CREATE TABLE columns (
    database         TEXT,
    table_name       TEXT,
    ordinal          INTEGER,
    name             TEXT,
    type             TEXT,
    is_partition_key INTEGER NOT NULL DEFAULT 0,
    comment          TEXT,
    PRIMARY KEY (database, table_name, name)
);

CREATE TABLE partitions (
    database    TEXT,
    table_name  TEXT,
    values_json TEXT,   -- JSON list of the partition values, as strings: ["17"]
    location    TEXT,
    created_at  TEXT,
    PRIMARY KEY (database, table_name, values_json)
);
