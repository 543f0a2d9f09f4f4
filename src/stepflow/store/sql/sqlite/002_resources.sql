-- stepflow store, SQLite dialect, migration 2: other API resources (activities, versions,
-- aliases, tags, map runs, task tokens) as JSON documents keyed by kind and ARN.
CREATE TABLE IF NOT EXISTS resources (
    kind    TEXT NOT NULL,
    arn     TEXT NOT NULL,
    created REAL NOT NULL,
    data    TEXT NOT NULL,
    PRIMARY KEY (kind, arn)
) WITHOUT ROWID;
