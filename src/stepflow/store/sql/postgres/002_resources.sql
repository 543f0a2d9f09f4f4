-- stepflow store, PostgreSQL dialect, migration 2: other API resources as JSON documents.
CREATE TABLE IF NOT EXISTS resources (
    kind    TEXT NOT NULL,
    arn     TEXT NOT NULL,
    created DOUBLE PRECISION NOT NULL,
    data    TEXT NOT NULL,
    PRIMARY KEY (kind, arn)
);
