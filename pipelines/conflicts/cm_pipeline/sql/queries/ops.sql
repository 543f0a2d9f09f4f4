-- Operations: chunk status, stuck leases, settings (the status SQL of 002_..., made safe).

-- name: chunk_status
WITH run AS (
  SELECT coalesce(%(run_id)s::uuid, (SELECT "RunID" FROM pipeline_runs ORDER BY "StartedAt" DESC LIMIT 1)) AS id
)
SELECT (SELECT id FROM run) AS run_id,
       count(*) AS total,
       count(*) FILTER (WHERE c."Status" = 'pending') AS pending,
       count(*) FILTER (WHERE c."Status" = 'running' AND c."LeaseUntil" >= now()) AS locked,
       count(*) FILTER (WHERE c."Status" = 'running' AND c."LeaseUntil" < now()) AS stuck,
       count(*) FILTER (WHERE c."Status" = 'done') AS done,
       count(*) FILTER (WHERE c."Status" = 'failed') AS failed,
       coalesce(sum(c."RowsUpserted"), 0) AS rows_upserted,
       coalesce(sum(c."RowsResolved"), 0) AS rows_resolved,
       (SELECT count(*) FROM conflictvisitmaps WHERE "UpdateFlag" = 1) AS update_flag_rows,
       (SELECT "Status" FROM pipeline_runs WHERE "RunID" = (SELECT id FROM run)) AS run_status
  FROM task02_chunks c WHERE c."RunID" = (SELECT id FROM run);

-- name: reset_stuck_chunks
UPDATE task02_chunks SET "Status" = 'pending', "LeaseUntil" = NULL
 WHERE "Status" = 'running' AND "LeaseUntil" < now()
   AND ("RunID" = %(run_id)s::uuid OR %(run_id)s::uuid IS NULL);

-- name: clear_update_flags
UPDATE conflictvisitmaps SET "UpdateFlag" = NULL WHERE "UpdateFlag" = 1;

-- name: settings
SELECT "LookbackYears" AS lookback_years, "LookaheadDays" AS lookahead_days,
       "MinOverlapMinutes" AS min_overlap_minutes, "ExtraDistancePer" AS extra_distance_per,
       "InProgressFlag" AS in_progress_flag, "LastLoadDate" AS last_load_date
  FROM settings WHERE "ID" = 0;

-- name: set_lookback_years
UPDATE settings SET "LookbackYears" = %(value)s::integer WHERE "ID" = 0;

-- name: set_lookahead_days
UPDATE settings SET "LookaheadDays" = %(value)s::integer WHERE "ID" = 0;

-- name: set_min_overlap_minutes
UPDATE settings SET "MinOverlapMinutes" = %(value)s::integer WHERE "ID" = 0;

-- name: set_extra_distance_per
UPDATE settings SET "ExtraDistancePer" = %(value)s::float8 WHERE "ID" = 0;
