-- stepflow store, SQLite dialect, migration 3: history kept in pages, one row per commit
-- holding the events first_id..last_id that the commit added (a JSON array). One row per
-- transition batch instead of one per event: the same bytes, far fewer B-tree inserts.
CREATE TABLE IF NOT EXISTS event_pages (
    execution_arn TEXT NOT NULL,
    first_id      INTEGER NOT NULL,
    last_id       INTEGER NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (execution_arn, first_id)
) WITHOUT ROWID;

INSERT INTO event_pages (execution_arn, first_id, last_id, data)
SELECT execution_arn, id, id, '[' || data || ']' FROM events;

DROP TABLE events;
