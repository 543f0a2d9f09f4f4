-- Named queries shared by the SQL stores. Parameters are :name (SQLite style); the PostgreSQL
-- store rewrites them to %(name)s. Values are always bound, never formatted into the text.

-- name: put_state_machine
INSERT INTO state_machines (arn, name, created, record) VALUES (:arn, :name, :created, :record)
ON CONFLICT (arn) DO UPDATE SET record = excluded.record;

-- name: get_state_machine
SELECT record FROM state_machines WHERE arn = :arn;

-- name: list_state_machines
SELECT record FROM state_machines ORDER BY created, arn;

-- name: delete_state_machine
DELETE FROM state_machines WHERE arn = :arn;

-- name: put_definition
INSERT INTO definitions (revision_id, state_machine_arn, definition) VALUES (:revision_id, :arn, :definition)
ON CONFLICT (revision_id) DO NOTHING;

-- name: get_definition
SELECT definition FROM definitions WHERE revision_id = :revision_id;

-- name: insert_execution
INSERT INTO executions (arn, state_machine_arn, status, start_date, version, owner, lease_until, data)
VALUES (:arn, :state_machine_arn, :status, :start_date, 0, :owner, :lease_until, :data);

-- name: insert_started_execution
INSERT INTO executions (arn, state_machine_arn, status, start_date, version, owner, lease_until, data)
VALUES (:arn, :state_machine_arn, :status, :start_date, :version, :owner, :lease_until, :data)
ON CONFLICT (arn) DO NOTHING;

-- name: update_execution
UPDATE executions SET status = :status, data = :data, version = version + 1
WHERE arn = :arn AND version = :version;

-- name: get_execution
SELECT data, version FROM executions WHERE arn = :arn;

-- name: list_executions
SELECT data FROM executions
WHERE (CAST(:machine AS TEXT) IS NULL OR state_machine_arn = :machine)
  AND (CAST(:status AS TEXT) IS NULL OR status = :status)
ORDER BY start_date DESC, arn;

-- name: running_executions
SELECT arn FROM executions WHERE status = 'RUNNING' ORDER BY start_date;

-- name: claim_execution
UPDATE executions SET owner = :owner, lease_until = :lease_until
WHERE arn = :arn AND status = 'RUNNING' AND (owner IS NULL OR owner = :owner OR lease_until < :now);

-- name: execution_owner
SELECT owner FROM executions WHERE arn = :arn;

-- name: take_over_execution
UPDATE executions SET owner = :owner, lease_until = :lease_until
WHERE arn = :arn AND status = 'RUNNING' AND owner = :previous;

-- name: force_lease
UPDATE executions SET owner = :owner, lease_until = :lease_until WHERE arn = :arn;

-- name: renew_leases
UPDATE executions SET lease_until = :lease_until WHERE owner = :owner AND status = 'RUNNING'
RETURNING arn;

-- name: release_execution
UPDATE executions SET owner = NULL, lease_until = 0 WHERE arn = :arn AND owner = :owner;

-- name: upsert_frame
INSERT INTO frames (execution_arn, key, data) VALUES (:arn, :key, :data)
ON CONFLICT (execution_arn, key) DO UPDATE SET data = excluded.data;

-- name: delete_frame
DELETE FROM frames WHERE execution_arn = :arn AND key = :key;

-- name: delete_frames
DELETE FROM frames WHERE execution_arn = :arn;

-- name: get_frames
SELECT data FROM frames WHERE execution_arn = :arn;

-- name: insert_event_page
INSERT INTO event_pages (execution_arn, first_id, last_id, data) VALUES (:arn, :first_id, :last_id, :data);

-- name: get_event_pages
SELECT data FROM event_pages WHERE execution_arn = :arn ORDER BY first_id;

-- name: put_resource
INSERT INTO resources (kind, arn, created, data) VALUES (:kind, :arn, :created, :data)
ON CONFLICT (kind, arn) DO UPDATE SET data = excluded.data;

-- name: get_resource
SELECT data FROM resources WHERE kind = :kind AND arn = :arn;

-- name: list_resources
SELECT data FROM resources WHERE kind = :kind ORDER BY created, arn;

-- name: delete_resource
DELETE FROM resources WHERE kind = :kind AND arn = :arn;
