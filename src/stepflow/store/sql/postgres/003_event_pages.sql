-- stepflow store, PostgreSQL dialect, migration 3: history kept in pages, one row per commit
-- holding the events first_id..last_id that the commit added (a JSON array).
CREATE TABLE IF NOT EXISTS event_pages (
    execution_arn TEXT NOT NULL,
    first_id      BIGINT NOT NULL,
    last_id       BIGINT NOT NULL,
    data          TEXT NOT NULL,
    PRIMARY KEY (execution_arn, first_id)
);

INSERT INTO event_pages (execution_arn, first_id, last_id, data)
SELECT execution_arn, id, id, '[' || data || ']' FROM events;

DROP TABLE events;
