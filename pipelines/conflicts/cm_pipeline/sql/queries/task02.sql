-- Task 02 (domain spec A4): the nine conflict rules for one chunk of (VisitDate, SSN) keys, and
-- the upsert/resolve lifecycle (A4.7), all inside the caller's transaction. The key list
-- arrives as two bound arrays; run parameters (window, MinOverlapMinutes, ExtraDistancePer) are
-- bound too. Phase 1 runs the same statements with one chunk holding every candidate key.

-- name: keys
CREATE TEMP TABLE ck ("VisitDate" date NOT NULL, "SSN" char(9) NOT NULL, PRIMARY KEY ("VisitDate", "SSN"))
ON COMMIT DROP;

-- name: fill_keys
INSERT INTO ck SELECT DISTINCT d, s FROM unnest(%(dates)s::date[], %(ssns)s::char(9)[]) AS k(d, s)
 WHERE d IS NOT NULL AND s IS NOT NULL;

-- name: visits
-- The chunk's eligible visits (A4.2) with their effective interval (schedule for S, actual for
-- A), CONFLICTID, and the two travel points of rule 7: "from" (call-out, call-in, home) and "to"
-- (call-in, call-out, home).
CREATE TEMP TABLE cv ON COMMIT DROP AS
SELECT s.*,
       CASE WHEN s."Mode" = 'S' THEN s."SchStartTime" ELSE s."VisitStartTime" END AS i_s,
       CASE WHEN s."Mode" = 'S' THEN s."SchEndTime" ELSE s."VisitEndTime" END AS i_e,
       stable_id(s."VisitID") AS cid,
       CASE WHEN s."OutLatitude" IS NOT NULL THEN s."OutLatitude" WHEN s."InLatitude" IS NOT NULL THEN s."InLatitude"
            WHEN s."PLatitude" IS NOT NULL AND s."PLongitude" IS NOT NULL THEN s."PLatitude" END AS fr_lat,
       CASE WHEN s."OutLatitude" IS NOT NULL THEN s."OutLongitude" WHEN s."InLatitude" IS NOT NULL THEN s."InLongitude"
            WHEN s."PLatitude" IS NOT NULL AND s."PLongitude" IS NOT NULL THEN s."PLongitude" END AS fr_lon,
       CASE WHEN s."InLatitude" IS NOT NULL THEN s."InLatitude" WHEN s."OutLatitude" IS NOT NULL THEN s."OutLatitude"
            WHEN s."PLatitude" IS NOT NULL AND s."PLongitude" IS NOT NULL THEN s."PLatitude" END AS to_lat,
       CASE WHEN s."InLatitude" IS NOT NULL THEN s."InLongitude" WHEN s."OutLatitude" IS NOT NULL THEN s."OutLongitude"
            WHEN s."PLatitude" IS NOT NULL AND s."PLongitude" IS NOT NULL THEN s."PLongitude" END AS to_lon
  FROM visit_staging s
  JOIN ck ON ck."VisitDate" = s."VisitDate" AND ck."SSN" = s."SSN"
 WHERE s."Mode" IN ('A', 'S') AND NOT s."IsMissed" AND NOT s."IsDeleted";
CREATE INDEX ON cv ("VisitDate", "SSN");
ANALYZE cv ("VisitDate", "SSN");

-- name: rows
CREATE TEMP TABLE cr (LIKE conflictvisitmaps INCLUDING DEFAULTS, pk char(2) NOT NULL) ON COMMIT DROP;
ALTER TABLE cr DROP COLUMN "ID", DROP COLUMN "StatusFlag", DROP COLUMN "UpdateFlag", DROP COLUMN "LastRunID",
               DROP COLUMN "CreatedDate", DROP COLUMN "UpdatedDate", DROP COLUMN "ResolveDate";

-- name: visit_pairs
-- Rules 1-7 for every ordered cross-agency pair of the same (VisitDate, SSN) (A4.3, A4.4).
-- OFFSET 0 keeps each LATERAL step a computed-once subquery (flattened, the haversine text
-- would be evaluated again in every expression that uses it).
INSERT INTO cr ("CONFLICTID", "SSN", "VisitDate", "VisitID", "AppVisitID", "ConVisitID", "ConAppVisitID", "ConKind",
  "ProviderID", "ProviderName", "ConProviderID", "ConProviderName", "CaregiverID", "AideName", "ConCaregiverID",
  "ConAideName", "PatientID", "PName", "ConPatientID", "ConPName", "PZipCode", "ConPZipCode", "PLatitude",
  "PLongitude", "ConPLatitude", "ConPLongitude", "PayerID", "Contract", "ConPayerID", "ConContract", "ServiceCode",
  "ConServiceCode", "SchStartTime", "SchEndTime", "ConSchStartTime", "ConSchEndTime", "VisitStartTime",
  "VisitEndTime", "ConVisitStartTime", "ConVisitEndTime", "EVVStartTime", "EVVEndTime", "ConEVVStartTime",
  "ConEVVEndTime", "Billed", "ConBilled", "BilledHours", "ConBilledHours", "IsMissed", "ConIsMissed",
  "SameSchTimeFlag", "SameVisitTimeFlag", "SchAndVisitTimeSameFlag", "SchOverAnotherSchTimeFlag",
  "VisitTimeOverAnotherVisitTimeFlag", "SchTimeOverVisitTimeFlag", "DistanceFlag",
  "OverlapMinutes", "MinuteDiffBetweenSch", "DistanceMilesFromLatLng", "AverageMilesPerHour", "ETATravelMinutes", pk)
SELECT a.cid, a."SSN", a."VisitDate", a."VisitID", a."AppVisitID", b."VisitID", b."AppVisitID", 'V',
       a."ProviderID", a."ProviderName", b."ProviderID", b."ProviderName", a."CaregiverID", a."AideName",
       b."CaregiverID", b."AideName", a."PatientID", a."PName", b."PatientID", b."PName", a."PZipCode", b."PZipCode",
       a."PLatitude", a."PLongitude", b."PLatitude", b."PLongitude", a."PayerID", a."Contract", b."PayerID",
       b."Contract", a."ServiceCode", b."ServiceCode", a."SchStartTime", a."SchEndTime", b."SchStartTime",
       b."SchEndTime", a."VisitStartTime", a."VisitEndTime", b."VisitStartTime", b."VisitEndTime", a."EVVStartTime",
       a."EVVEndTime", b."EVVStartTime", b."EVVEndTime", a."Billed", b."Billed", a."BilledHours", b."BilledHours",
       a."IsMissed", b."IsMissed",
       f.r1, f.r2, f.r3, f.r4, f.r5, f.r6, f.r7,
       GREATEST(x.ov, 0)::integer,
       CASE WHEN x.near THEN t.gap END, d.dist, e.mph, e.eta, 'VV'
  FROM cv a
  JOIN cv b ON b."VisitDate" = a."VisitDate" AND b."SSN" = a."SSN" AND b."VisitID" <> a."VisitID"
           AND b."ProviderID" <> a."ProviderID"
 CROSS JOIN LATERAL (SELECT a.i_s = b.i_s AND a.i_e = b.i_e AS same,
                            EXTRACT(EPOCH FROM LEAST(a.i_e, b.i_e) - GREATEST(a.i_s, b.i_s)) / 60 AS ov,
                            a."Mode"::text || b."Mode"::text AS modes) y
 CROSS JOIN LATERAL (SELECT y.same, y.ov, y.modes,
                            y.modes = 'AA' AND NOT y.same AND y.ov < %(min_ov)s AS near OFFSET 0) x
 CROSS JOIN LATERAL (SELECT (a.i_s, a.i_e, a."VisitID") < (b.i_s, b.i_e, b."VisitID") AS a_first) o
 CROSS JOIN LATERAL (SELECT EXTRACT(EPOCH FROM CASE WHEN o.a_first THEN b.i_s - a.i_e ELSE a.i_s - b.i_e END) / 60 AS gap,
                            CASE WHEN o.a_first THEN a.fr_lat ELSE b.fr_lat END AS la1,
                            CASE WHEN o.a_first THEN a.fr_lon ELSE b.fr_lon END AS lo1,
                            CASE WHEN o.a_first THEN b.to_lat ELSE a.to_lat END AS la2,
                            CASE WHEN o.a_first THEN b.to_lon ELSE a.to_lon END AS lo2 OFFSET 0) t
 CROSS JOIN LATERAL (SELECT CASE WHEN x.near AND t.la1 IS NOT NULL AND t.la2 IS NOT NULL THEN
          ROUND((6371000 * 2 * asin(sqrt(power(sin(radians((t.la2 - t.la1) / 2)), 2)
                 + cos(radians(t.la1)) * cos(radians(t.la2)) * power(sin(radians((t.lo2 - t.lo1) / 2)), 2)))
                 / 1609.34 * %(extra)s::float8)::numeric, 2) END AS dist OFFSET 0) d
 LEFT JOIN LATERAL (SELECT m."AverageMilesPerHour" AS mph, ROUND(d.dist / m."AverageMilesPerHour" * 60, 2) AS eta
                      FROM mph m WHERE m."From" <= d.dist AND (m."To" IS NULL OR d.dist < m."To")) e ON true
 CROSS JOIN LATERAL (SELECT
        CASE WHEN x.modes = 'SS' AND x.same THEN 'Y' ELSE 'N' END AS r1,
        CASE WHEN x.modes = 'AA' AND x.same THEN 'Y' ELSE 'N' END AS r2,
        CASE WHEN x.modes IN ('SA', 'AS') AND x.same THEN 'Y' ELSE 'N' END AS r3,
        CASE WHEN x.modes = 'SS' AND NOT x.same AND x.ov >= %(min_ov)s THEN 'Y' ELSE 'N' END AS r4,
        CASE WHEN x.modes = 'AA' AND NOT x.same AND x.ov >= %(min_ov)s THEN 'Y' ELSE 'N' END AS r5,
        CASE WHEN x.modes IN ('SA', 'AS') AND NOT x.same AND x.ov >= %(min_ov)s THEN 'Y' ELSE 'N' END AS r6,
        CASE WHEN x.near AND e.eta IS NOT NULL
                  AND (a."PZipCode" IS NULL OR b."PZipCode" IS NULL OR a."PZipCode" <> b."PZipCode")
                  AND e.eta > t.gap THEN 'Y' ELSE 'N' END AS r7) f
 WHERE 'Y' IN (f.r1, f.r2, f.r3, f.r4, f.r5, f.r6, f.r7);

-- name: event_pairs
-- Rules 8 (in-service, strict overlap) and 9 (PTO, whole days, not absent at the visit's own
-- agency) as (visit, event) rows and their reverse (event, visit), on the visit's VisitDate (A4.5).
CREATE TEMP TABLE ce ON COMMIT DROP AS
SELECT a."VisitID" AS vid, e."EventID" AS eid, e."EventKind" AS kind, e."ProviderID" AS e_provider,
       e."CaregiverID" AS e_caregiver, e."StartTime", e."EndTime", e."StartDate", e."EndDate",
       CASE WHEN e."EventKind" = 'I' THEN GREATEST(EXTRACT(EPOCH FROM LEAST(a."VisitEndTime", e."EndTime")
                 - GREATEST(a."VisitStartTime", e."StartTime")) / 60, 0)::integer END AS ov
  FROM cv a
  JOIN event_staging e ON e."SSN" = a."SSN" AND e."ProviderID" <> a."ProviderID"
 WHERE a."Mode" = 'A'
   AND CASE WHEN e."EventKind" = 'I' THEN
            EXTRACT(EPOCH FROM LEAST(a."VisitEndTime", e."EndTime") - GREATEST(a."VisitStartTime", e."StartTime")) / 60
              >= %(min_ov)s
       ELSE a."VisitStartTime"::date <= e."EndDate" AND a."VisitEndTime"::date >= e."StartDate"
            AND NOT EXISTS (SELECT 1 FROM event_staging own
                             WHERE own."SSN" = a."SSN" AND own."EventKind" = 'P' AND own."ProviderID" = a."ProviderID"
                               AND a."VisitStartTime"::date <= own."EndDate" AND a."VisitEndTime"::date >= own."StartDate")
       END;
INSERT INTO cr ("CONFLICTID", "SSN", "VisitDate", "VisitID", "AppVisitID", "ConVisitID", "ConKind",
  "ProviderID", "ProviderName", "ConProviderID", "CaregiverID", "AideName", "ConCaregiverID",
  "PatientID", "PName", "PZipCode", "PLatitude", "PLongitude", "PayerID", "Contract", "ServiceCode",
  "SchStartTime", "SchEndTime", "VisitStartTime", "VisitEndTime", "EVVStartTime", "EVVEndTime",
  "ConInserviceStartDate", "ConInserviceEndDate", "ConPTOStartDate", "ConPTOEndDate", "Billed", "BilledHours",
  "IsMissed", "InServiceFlag", "PTOFlag", "OverlapMinutes", pk)
SELECT a.cid, a."SSN", a."VisitDate", a."VisitID", a."AppVisitID", ce.eid, ce.kind,
       a."ProviderID", a."ProviderName", ce.e_provider, a."CaregiverID", a."AideName", ce.e_caregiver,
       a."PatientID", a."PName", a."PZipCode", a."PLatitude", a."PLongitude", a."PayerID", a."Contract", a."ServiceCode",
       a."SchStartTime", a."SchEndTime", a."VisitStartTime", a."VisitEndTime", a."EVVStartTime", a."EVVEndTime",
       ce."StartTime", ce."EndTime", ce."StartDate", ce."EndDate", a."Billed", a."BilledHours", a."IsMissed",
       CASE WHEN ce.kind = 'I' THEN 'Y' ELSE 'N' END, CASE WHEN ce.kind = 'P' THEN 'Y' ELSE 'N' END, ce.ov, 'VE'
  FROM ce JOIN cv a ON a."VisitID" = ce.vid;
INSERT INTO cr ("CONFLICTID", "SSN", "VisitDate", "VisitID", "ConVisitID", "ConAppVisitID", "ConKind",
  "ProviderID", "ConProviderID", "ConProviderName", "CaregiverID", "ConCaregiverID", "ConAideName",
  "ConPatientID", "ConPName", "ConPZipCode", "ConPLatitude", "ConPLongitude", "ConPayerID", "ConContract",
  "ConServiceCode", "ConSchStartTime", "ConSchEndTime", "ConVisitStartTime", "ConVisitEndTime", "ConEVVStartTime",
  "ConEVVEndTime", "InserviceStartDate", "InserviceEndDate", "PTOStartDate", "PTOEndDate", "ConBilled",
  "ConBilledHours", "ConIsMissed", "InServiceFlag", "PTOFlag", "OverlapMinutes", pk)
SELECT stable_id(ce.eid), a."SSN", a."VisitDate", ce.eid, a."VisitID", a."AppVisitID", 'V',
       ce.e_provider, a."ProviderID", a."ProviderName", ce.e_caregiver, a."CaregiverID", a."AideName",
       a."PatientID", a."PName", a."PZipCode", a."PLatitude", a."PLongitude", a."PayerID", a."Contract",
       a."ServiceCode", a."SchStartTime", a."SchEndTime", a."VisitStartTime", a."VisitEndTime", a."EVVStartTime",
       a."EVVEndTime", ce."StartTime", ce."EndTime", ce."StartDate", ce."EndDate", a."Billed", a."BilledHours",
       a."IsMissed", CASE WHEN ce.kind = 'I' THEN 'Y' ELSE 'N' END, CASE WHEN ce.kind = 'P' THEN 'Y' ELSE 'N' END,
       ce.ov, 'EV'
  FROM ce JOIN cv a ON a."VisitID" = ce.vid;

-- name: groups
-- GroupID: the smallest CONFLICTID of the connected component of the visit-visit conflict graph
-- (components stay inside one (VisitDate, SSN)); event rows take their visit's group (A4.6).
CREATE INDEX ON cr ("VisitID");
CREATE TEMP TABLE cg ON COMMIT DROP AS
WITH RECURSIVE reach(v, cid) AS (
    SELECT "VisitID", "CONFLICTID" FROM cr WHERE pk = 'VV'
  UNION
    SELECT p."ConVisitID", reach.cid FROM reach JOIN cr p ON p."VisitID" = reach.v AND p.pk = 'VV')
SELECT v, min(cid) AS gid FROM reach GROUP BY v;
CREATE INDEX ON cg (v);
UPDATE cr SET "GroupID" = coalesce(cg.gid, CASE WHEN cr.pk = 'EV' THEN stable_id(cr."ConVisitID") ELSE cr."CONFLICTID" END)
  FROM cr AS me LEFT JOIN cg ON cg.v = CASE WHEN me.pk = 'EV' THEN me."ConVisitID" ELSE me."VisitID" END
 WHERE me.ctid = cr.ctid;

-- name: anchors
-- Step 2: one conflicts row per anchor. ON CONFLICT on VisitID, so that a CONFLICTID collision
-- between two different anchors fails loudly on the primary key instead of passing silently.
INSERT INTO conflicts ("CONFLICTID", "VisitID")
SELECT DISTINCT "CONFLICTID", "VisitID" FROM cr ORDER BY "CONFLICTID"
ON CONFLICT ("VisitID") DO NOTHING;
