-- Phase 2 planning and chunk bookkeeping (domain spec A5).

-- name: run
SELECT r."RunID", r."AsOf", r."WindowStart", r."WindowEnd", r."RowsStaged", r."Params", r."Status",
       (SELECT "RunID" FROM staging_run WHERE "ID" = 0) AS staging_run
  FROM pipeline_runs r WHERE r."RunID" = %(run_id)s;

-- name: latest_run
SELECT "RunID" FROM staging_run WHERE "ID" = 0;

-- name: staging_present
SELECT EXISTS (SELECT 1 FROM visit_staging);

-- name: candidates
-- Keys with visits of >= 2 agencies, keys with an event overlapping a visit of the SSN (when the
-- event rules are on), and keys of open/manual rows in the window; weight = n(n-1) ordered
-- visit pairs + event pairs, at least 1.
WITH v AS (
  SELECT "VisitDate", "SSN", count(*) AS n, min("ProviderID"::text) <> max("ProviderID"::text) AS several
    FROM visit_staging
   WHERE "Mode" IN ('A', 'S') AND NOT "IsMissed" AND NOT "IsDeleted"
   GROUP BY "VisitDate", "SSN"
), ev AS (
  SELECT s."VisitDate", s."SSN", count(*) AS n
    FROM visit_staging s
    JOIN event_staging e ON e."SSN" = s."SSN" AND e."ProviderID" <> s."ProviderID"
   WHERE %(event_rules)s AND s."Mode" = 'A' AND NOT s."IsMissed" AND NOT s."IsDeleted"
     AND CASE WHEN e."EventKind" = 'I' THEN e."StartTime" < s."VisitEndTime" AND e."EndTime" > s."VisitStartTime"
              ELSE s."VisitStartTime"::date <= e."EndDate" AND s."VisitEndTime"::date >= e."StartDate" END
   GROUP BY s."VisitDate", s."SSN"
), open_rows AS (
  SELECT DISTINCT "VisitDate", "SSN" FROM conflictvisitmaps
   WHERE "VisitDate" BETWEEN %(ws)s AND %(we)s AND "StatusFlag" IN ('U', 'W', 'I')
), keys AS (
  SELECT "VisitDate", "SSN" FROM v WHERE several
  UNION SELECT "VisitDate", "SSN" FROM ev
  UNION SELECT "VisitDate", "SSN" FROM open_rows
)
SELECT k."VisitDate", k."SSN",
       GREATEST(coalesce(v.n * (v.n - 1), 0) + 2 * coalesce(ev.n, 0), 1)::integer AS weight
  FROM keys k
  LEFT JOIN v ON v."VisitDate" = k."VisitDate" AND v."SSN" = k."SSN"
  LEFT JOIN ev ON ev."VisitDate" = k."VisitDate" AND ev."SSN" = k."SSN"
 ORDER BY k."VisitDate", k."SSN";

-- name: plan_exists
SELECT count(*), coalesce(sum("EstRows"), 0) FROM task02_chunks WHERE "RunID" = %(run_id)s;

-- name: insert_chunks
INSERT INTO task02_chunks ("RunID", "ChunkID", "EstRows", "NKeys")
SELECT %(run_id)s, c, e, n FROM unnest(%(ids)s::integer[], %(est)s::integer[], %(nkeys)s::integer[]) AS x(c, e, n);

-- name: insert_keys
INSERT INTO task02_chunk_keys ("RunID", "ChunkID", "VisitDate", "SSN", "EstRows")
SELECT %(run_id)s, c, d, s, w FROM unnest(%(ids)s::integer[], %(dates)s::date[], %(ssns)s::char(9)[], %(weights)s::integer[])
    AS x(c, d, s, w);

-- name: chunk_keys
SELECT "VisitDate", "SSN" FROM task02_chunk_keys WHERE "RunID" = %(run_id)s AND "ChunkID" = %(chunk_id)s
 ORDER BY "VisitDate", "SSN";

-- name: claim
-- The lease (A5.2), committed on its own so that monitoring sees the chunk as running.
UPDATE task02_chunks
   SET "Status" = 'running', "Attempts" = "Attempts" + 1, "StartedAt" = now(),
       "LeaseUntil" = now() + make_interval(secs => %(lease_seconds)s), "Error" = NULL
 WHERE "RunID" = %(run_id)s AND "ChunkID" = %(chunk_id)s
   AND ("Status" IN ('pending', 'failed') OR ("Status" = 'running' AND "LeaseUntil" < now()))
RETURNING "ChunkID";

-- name: lock
-- Inside the work transaction: a live worker holds this row lock until it commits, so a second
-- invocation waits here and then sees 'done'; a dead worker's lock is gone with its session.
SELECT "Status" FROM task02_chunks WHERE "RunID" = %(run_id)s AND "ChunkID" = %(chunk_id)s FOR UPDATE;

-- name: take_over
-- Inside the work transaction, after "lock" found the chunk unfinished although the claim did not
-- get it (a worker died holding a live lease): counted as an attempt when this one commits.
UPDATE task02_chunks
   SET "Status" = 'running', "Attempts" = "Attempts" + 1, "StartedAt" = now(),
       "LeaseUntil" = now() + make_interval(secs => %(lease_seconds)s), "Error" = NULL
 WHERE "RunID" = %(run_id)s AND "ChunkID" = %(chunk_id)s;

-- name: done
UPDATE task02_chunks SET "Status" = 'done', "RowsUpserted" = %(upserted)s, "RowsResolved" = %(resolved)s,
       "FinishedAt" = now(), "LeaseUntil" = NULL, "Error" = NULL
 WHERE "RunID" = %(run_id)s AND "ChunkID" = %(chunk_id)s;

-- name: failed
UPDATE task02_chunks SET "Status" = 'failed', "Error" = %(error)s, "LeaseUntil" = NULL, "FinishedAt" = now()
 WHERE "RunID" = %(run_id)s AND "ChunkID" = %(chunk_id)s AND "Status" <> 'done';

-- name: incomplete
SELECT count(*) FILTER (WHERE "Status" <> 'done'), count(*) FROM task02_chunks WHERE "RunID" = %(run_id)s;

-- name: flag_counts
SELECT count(*) FILTER (WHERE "SameSchTimeFlag" = 'Y'), count(*) FILTER (WHERE "SameVisitTimeFlag" = 'Y'),
       count(*) FILTER (WHERE "SchAndVisitTimeSameFlag" = 'Y'), count(*) FILTER (WHERE "SchOverAnotherSchTimeFlag" = 'Y'),
       count(*) FILTER (WHERE "VisitTimeOverAnotherVisitTimeFlag" = 'Y'),
       count(*) FILTER (WHERE "SchTimeOverVisitTimeFlag" = 'Y'), count(*) FILTER (WHERE "DistanceFlag" = 'Y'),
       count(*) FILTER (WHERE "InServiceFlag" = 'Y'), count(*) FILTER (WHERE "PTOFlag" = 'Y'), count(*)
  FROM conflictvisitmaps
 WHERE "StatusFlag" = 'U' AND "VisitDate" BETWEEN %(ws)s AND %(we)s;
