-- Task 02 writes (domain spec A4.7 steps 3-5) from the chunk's computed rows ``cr`` and keys ``ck``.
-- Rows outside the run's window are never touched (step 6); D is terminal; W and I keep their
-- status (manual) but get their flags recomputed. Unchanged rows are not rewritten.

-- name: upsert
-- Step 3: new pairs are inserted as U; existing ones get the recomputed snapshot, flags and
-- numbers; R re-opens to U (ResolveDate cleared); D, W and I keep their status.
INSERT INTO conflictvisitmaps AS t (
  "CONFLICTID", "GroupID", "SSN", "VisitDate", "VisitID", "AppVisitID", "ConVisitID", "ConAppVisitID",
  "ConKind", "ProviderID", "ProviderName", "ConProviderID", "ConProviderName", "CaregiverID", "AideName",
  "ConCaregiverID", "ConAideName", "PatientID", "PName", "ConPatientID", "ConPName", "PZipCode",
  "ConPZipCode", "PLatitude", "PLongitude", "ConPLatitude", "ConPLongitude", "PayerID", "Contract",
  "ConPayerID", "ConContract", "ServiceCode", "ConServiceCode", "SchStartTime", "SchEndTime",
  "ConSchStartTime", "ConSchEndTime", "VisitStartTime", "VisitEndTime", "ConVisitStartTime",
  "ConVisitEndTime", "EVVStartTime", "EVVEndTime", "ConEVVStartTime", "ConEVVEndTime", "InserviceStartDate",
  "InserviceEndDate", "ConInserviceStartDate", "ConInserviceEndDate", "PTOStartDate", "PTOEndDate",
  "ConPTOStartDate", "ConPTOEndDate", "Billed", "ConBilled", "BilledHours", "ConBilledHours", "IsMissed",
  "ConIsMissed", "SameSchTimeFlag", "SameVisitTimeFlag", "SchAndVisitTimeSameFlag",
  "SchOverAnotherSchTimeFlag", "VisitTimeOverAnotherVisitTimeFlag", "SchTimeOverVisitTimeFlag",
  "DistanceFlag", "InServiceFlag", "PTOFlag", "OverlapMinutes", "MinuteDiffBetweenSch",
  "DistanceMilesFromLatLng", "AverageMilesPerHour", "ETATravelMinutes",
  "StatusFlag", "UpdateFlag", "LastRunID", "CreatedDate", "UpdatedDate")
SELECT
  "CONFLICTID", "GroupID", "SSN", "VisitDate", "VisitID", "AppVisitID", "ConVisitID", "ConAppVisitID",
  "ConKind", "ProviderID", "ProviderName", "ConProviderID", "ConProviderName", "CaregiverID", "AideName",
  "ConCaregiverID", "ConAideName", "PatientID", "PName", "ConPatientID", "ConPName", "PZipCode",
  "ConPZipCode", "PLatitude", "PLongitude", "ConPLatitude", "ConPLongitude", "PayerID", "Contract",
  "ConPayerID", "ConContract", "ServiceCode", "ConServiceCode", "SchStartTime", "SchEndTime",
  "ConSchStartTime", "ConSchEndTime", "VisitStartTime", "VisitEndTime", "ConVisitStartTime",
  "ConVisitEndTime", "EVVStartTime", "EVVEndTime", "ConEVVStartTime", "ConEVVEndTime", "InserviceStartDate",
  "InserviceEndDate", "ConInserviceStartDate", "ConInserviceEndDate", "PTOStartDate", "PTOEndDate",
  "ConPTOStartDate", "ConPTOEndDate", "Billed", "ConBilled", "BilledHours", "ConBilledHours", "IsMissed",
  "ConIsMissed", "SameSchTimeFlag", "SameVisitTimeFlag", "SchAndVisitTimeSameFlag",
  "SchOverAnotherSchTimeFlag", "VisitTimeOverAnotherVisitTimeFlag", "SchTimeOverVisitTimeFlag",
  "DistanceFlag", "InServiceFlag", "PTOFlag", "OverlapMinutes", "MinuteDiffBetweenSch",
  "DistanceMilesFromLatLng", "AverageMilesPerHour", "ETATravelMinutes",
  'U', NULL, %(run_id)s, now(), now()
  FROM cr
ON CONFLICT ("VisitID", "ConVisitID") DO UPDATE SET
  "CONFLICTID" = EXCLUDED."CONFLICTID",
  "GroupID" = EXCLUDED."GroupID",
  "SSN" = EXCLUDED."SSN",
  "VisitDate" = EXCLUDED."VisitDate",
  "AppVisitID" = EXCLUDED."AppVisitID",
  "ConAppVisitID" = EXCLUDED."ConAppVisitID",
  "ConKind" = EXCLUDED."ConKind",
  "ProviderID" = EXCLUDED."ProviderID",
  "ProviderName" = EXCLUDED."ProviderName",
  "ConProviderID" = EXCLUDED."ConProviderID",
  "ConProviderName" = EXCLUDED."ConProviderName",
  "CaregiverID" = EXCLUDED."CaregiverID",
  "AideName" = EXCLUDED."AideName",
  "ConCaregiverID" = EXCLUDED."ConCaregiverID",
  "ConAideName" = EXCLUDED."ConAideName",
  "PatientID" = EXCLUDED."PatientID",
  "PName" = EXCLUDED."PName",
  "ConPatientID" = EXCLUDED."ConPatientID",
  "ConPName" = EXCLUDED."ConPName",
  "PZipCode" = EXCLUDED."PZipCode",
  "ConPZipCode" = EXCLUDED."ConPZipCode",
  "PLatitude" = EXCLUDED."PLatitude",
  "PLongitude" = EXCLUDED."PLongitude",
  "ConPLatitude" = EXCLUDED."ConPLatitude",
  "ConPLongitude" = EXCLUDED."ConPLongitude",
  "PayerID" = EXCLUDED."PayerID",
  "Contract" = EXCLUDED."Contract",
  "ConPayerID" = EXCLUDED."ConPayerID",
  "ConContract" = EXCLUDED."ConContract",
  "ServiceCode" = EXCLUDED."ServiceCode",
  "ConServiceCode" = EXCLUDED."ConServiceCode",
  "SchStartTime" = EXCLUDED."SchStartTime",
  "SchEndTime" = EXCLUDED."SchEndTime",
  "ConSchStartTime" = EXCLUDED."ConSchStartTime",
  "ConSchEndTime" = EXCLUDED."ConSchEndTime",
  "VisitStartTime" = EXCLUDED."VisitStartTime",
  "VisitEndTime" = EXCLUDED."VisitEndTime",
  "ConVisitStartTime" = EXCLUDED."ConVisitStartTime",
  "ConVisitEndTime" = EXCLUDED."ConVisitEndTime",
  "EVVStartTime" = EXCLUDED."EVVStartTime",
  "EVVEndTime" = EXCLUDED."EVVEndTime",
  "ConEVVStartTime" = EXCLUDED."ConEVVStartTime",
  "ConEVVEndTime" = EXCLUDED."ConEVVEndTime",
  "InserviceStartDate" = EXCLUDED."InserviceStartDate",
  "InserviceEndDate" = EXCLUDED."InserviceEndDate",
  "ConInserviceStartDate" = EXCLUDED."ConInserviceStartDate",
  "ConInserviceEndDate" = EXCLUDED."ConInserviceEndDate",
  "PTOStartDate" = EXCLUDED."PTOStartDate",
  "PTOEndDate" = EXCLUDED."PTOEndDate",
  "ConPTOStartDate" = EXCLUDED."ConPTOStartDate",
  "ConPTOEndDate" = EXCLUDED."ConPTOEndDate",
  "Billed" = EXCLUDED."Billed",
  "ConBilled" = EXCLUDED."ConBilled",
  "BilledHours" = EXCLUDED."BilledHours",
  "ConBilledHours" = EXCLUDED."ConBilledHours",
  "IsMissed" = EXCLUDED."IsMissed",
  "ConIsMissed" = EXCLUDED."ConIsMissed",
  "SameSchTimeFlag" = EXCLUDED."SameSchTimeFlag",
  "SameVisitTimeFlag" = EXCLUDED."SameVisitTimeFlag",
  "SchAndVisitTimeSameFlag" = EXCLUDED."SchAndVisitTimeSameFlag",
  "SchOverAnotherSchTimeFlag" = EXCLUDED."SchOverAnotherSchTimeFlag",
  "VisitTimeOverAnotherVisitTimeFlag" = EXCLUDED."VisitTimeOverAnotherVisitTimeFlag",
  "SchTimeOverVisitTimeFlag" = EXCLUDED."SchTimeOverVisitTimeFlag",
  "DistanceFlag" = EXCLUDED."DistanceFlag",
  "InServiceFlag" = EXCLUDED."InServiceFlag",
  "PTOFlag" = EXCLUDED."PTOFlag",
  "OverlapMinutes" = EXCLUDED."OverlapMinutes",
  "MinuteDiffBetweenSch" = EXCLUDED."MinuteDiffBetweenSch",
  "DistanceMilesFromLatLng" = EXCLUDED."DistanceMilesFromLatLng",
  "AverageMilesPerHour" = EXCLUDED."AverageMilesPerHour",
  "ETATravelMinutes" = EXCLUDED."ETATravelMinutes",
  "StatusFlag" = CASE WHEN t."StatusFlag" IN ('D', 'W', 'I') THEN t."StatusFlag" ELSE 'U' END,
  "ResolveDate" = CASE WHEN t."StatusFlag" IN ('D', 'W', 'I') THEN t."ResolveDate" END,
  "UpdateFlag" = NULL, "LastRunID" = %(run_id)s, "UpdatedDate" = now()
WHERE t."StatusFlag" NOT IN ('U', 'D', 'W', 'I') OR t."UpdateFlag" IS NOT NULL
   OR (t."CONFLICTID", t."GroupID", t."SSN", t."VisitDate", t."AppVisitID", t."ConAppVisitID", t."ConKind",
       t."ProviderID", t."ProviderName", t."ConProviderID", t."ConProviderName", t."CaregiverID",
       t."AideName", t."ConCaregiverID", t."ConAideName", t."PatientID", t."PName", t."ConPatientID",
       t."ConPName", t."PZipCode", t."ConPZipCode", t."PLatitude", t."PLongitude", t."ConPLatitude",
       t."ConPLongitude", t."PayerID", t."Contract", t."ConPayerID", t."ConContract", t."ServiceCode",
       t."ConServiceCode", t."SchStartTime", t."SchEndTime", t."ConSchStartTime", t."ConSchEndTime",
       t."VisitStartTime", t."VisitEndTime", t."ConVisitStartTime", t."ConVisitEndTime", t."EVVStartTime",
       t."EVVEndTime", t."ConEVVStartTime", t."ConEVVEndTime", t."InserviceStartDate", t."InserviceEndDate",
       t."ConInserviceStartDate", t."ConInserviceEndDate", t."PTOStartDate", t."PTOEndDate",
       t."ConPTOStartDate", t."ConPTOEndDate", t."Billed", t."ConBilled", t."BilledHours",
       t."ConBilledHours", t."IsMissed", t."ConIsMissed", t."SameSchTimeFlag", t."SameVisitTimeFlag",
       t."SchAndVisitTimeSameFlag", t."SchOverAnotherSchTimeFlag", t."VisitTimeOverAnotherVisitTimeFlag",
       t."SchTimeOverVisitTimeFlag", t."DistanceFlag", t."InServiceFlag", t."PTOFlag", t."OverlapMinutes",
       t."MinuteDiffBetweenSch", t."DistanceMilesFromLatLng", t."AverageMilesPerHour", t."ETATravelMinutes")
      IS DISTINCT FROM
      (EXCLUDED."CONFLICTID", EXCLUDED."GroupID", EXCLUDED."SSN", EXCLUDED."VisitDate",
       EXCLUDED."AppVisitID", EXCLUDED."ConAppVisitID", EXCLUDED."ConKind", EXCLUDED."ProviderID",
       EXCLUDED."ProviderName", EXCLUDED."ConProviderID", EXCLUDED."ConProviderName", EXCLUDED."CaregiverID",
       EXCLUDED."AideName", EXCLUDED."ConCaregiverID", EXCLUDED."ConAideName", EXCLUDED."PatientID",
       EXCLUDED."PName", EXCLUDED."ConPatientID", EXCLUDED."ConPName", EXCLUDED."PZipCode",
       EXCLUDED."ConPZipCode", EXCLUDED."PLatitude", EXCLUDED."PLongitude", EXCLUDED."ConPLatitude",
       EXCLUDED."ConPLongitude", EXCLUDED."PayerID", EXCLUDED."Contract", EXCLUDED."ConPayerID",
       EXCLUDED."ConContract", EXCLUDED."ServiceCode", EXCLUDED."ConServiceCode", EXCLUDED."SchStartTime",
       EXCLUDED."SchEndTime", EXCLUDED."ConSchStartTime", EXCLUDED."ConSchEndTime",
       EXCLUDED."VisitStartTime", EXCLUDED."VisitEndTime", EXCLUDED."ConVisitStartTime",
       EXCLUDED."ConVisitEndTime", EXCLUDED."EVVStartTime", EXCLUDED."EVVEndTime",
       EXCLUDED."ConEVVStartTime", EXCLUDED."ConEVVEndTime", EXCLUDED."InserviceStartDate",
       EXCLUDED."InserviceEndDate", EXCLUDED."ConInserviceStartDate", EXCLUDED."ConInserviceEndDate",
       EXCLUDED."PTOStartDate", EXCLUDED."PTOEndDate", EXCLUDED."ConPTOStartDate", EXCLUDED."ConPTOEndDate",
       EXCLUDED."Billed", EXCLUDED."ConBilled", EXCLUDED."BilledHours", EXCLUDED."ConBilledHours",
       EXCLUDED."IsMissed", EXCLUDED."ConIsMissed", EXCLUDED."SameSchTimeFlag", EXCLUDED."SameVisitTimeFlag",
       EXCLUDED."SchAndVisitTimeSameFlag", EXCLUDED."SchOverAnotherSchTimeFlag",
       EXCLUDED."VisitTimeOverAnotherVisitTimeFlag", EXCLUDED."SchTimeOverVisitTimeFlag",
       EXCLUDED."DistanceFlag", EXCLUDED."InServiceFlag", EXCLUDED."PTOFlag", EXCLUDED."OverlapMinutes",
       EXCLUDED."MinuteDiffBetweenSch", EXCLUDED."DistanceMilesFromLatLng", EXCLUDED."AverageMilesPerHour",
       EXCLUDED."ETATravelMinutes");

-- name: resolve_vanished
-- Step 4: in-window rows of these keys that were not produced now: the nine flags become 'N';
-- U becomes R (ResolveDate now); R, W and I keep their status; D is left alone.
UPDATE conflictvisitmaps t SET
  "SameSchTimeFlag" = 'N',
  "SameVisitTimeFlag" = 'N',
  "SchAndVisitTimeSameFlag" = 'N',
  "SchOverAnotherSchTimeFlag" = 'N',
  "VisitTimeOverAnotherVisitTimeFlag" = 'N',
  "SchTimeOverVisitTimeFlag" = 'N',
  "DistanceFlag" = 'N',
  "InServiceFlag" = 'N',
  "PTOFlag" = 'N',
  "StatusFlag" = CASE WHEN t."StatusFlag" = 'U' THEN 'R' ELSE t."StatusFlag" END,
  "ResolveDate" = CASE WHEN t."StatusFlag" = 'U' THEN now() ELSE t."ResolveDate" END,
  "UpdateFlag" = NULL, "LastRunID" = %(run_id)s, "UpdatedDate" = now()
  FROM ck
 WHERE t."VisitDate" = ck."VisitDate" AND t."SSN" = ck."SSN"
   AND t."VisitDate" BETWEEN %(ws)s AND %(we)s
   AND t."StatusFlag" <> 'D'
   AND NOT EXISTS (SELECT 1 FROM cr WHERE cr."VisitID" = t."VisitID" AND cr."ConVisitID" = t."ConVisitID")
   AND (t."StatusFlag" = 'U' OR t."UpdateFlag" IS NOT NULL OR 'Y' IN (t."SameSchTimeFlag", t."SameVisitTimeFlag", t."SchAndVisitTimeSameFlag", t."SchOverAnotherSchTimeFlag", t."VisitTimeOverAnotherVisitTimeFlag", t."SchTimeOverVisitTimeFlag", t."DistanceFlag", t."InServiceFlag", t."PTOFlag"));

-- name: cascade
-- Step 5: a row whose either side is now deleted becomes D; missed becomes R. W, I and D stay.
UPDATE conflictvisitmaps t SET
  "StatusFlag" = CASE WHEN s.deleted THEN 'D' ELSE 'R' END,
  "ResolveDate" = coalesce(t."ResolveDate", now()),
  "UpdateFlag" = NULL, "LastRunID" = %(run_id)s, "UpdatedDate" = now()
  FROM (SELECT m."ID", bool_or(v."IsDeleted") AS deleted, bool_or(v."IsMissed") AS missed
          FROM conflictvisitmaps m
          JOIN ck ON ck."VisitDate" = m."VisitDate" AND ck."SSN" = m."SSN"
          JOIN visit_staging v ON v."VisitID" = m."VisitID" OR v."VisitID" = m."ConVisitID"
         WHERE m."VisitDate" BETWEEN %(ws)s AND %(we)s AND m."StatusFlag" NOT IN ('D', 'W', 'I')
         GROUP BY m."ID") s
 WHERE t."ID" = s."ID"
   AND (s.deleted OR (s.missed AND t."StatusFlag" <> 'R'));

-- name: finalize
-- Step 7: conflicts."StatusFlag" from its rows (U if any U, else D if all D, else R), for the
-- conflicts with rows in the window; then the run and settings are closed.
UPDATE conflicts c SET "StatusFlag" = s.status,
       "ResolveDate" = CASE WHEN s.status = 'U' THEN NULL ELSE coalesce(c."ResolveDate", now()) END
  FROM (SELECT m."CONFLICTID",
               CASE WHEN bool_or(m."StatusFlag" = 'U') THEN 'U'
                    WHEN bool_and(m."StatusFlag" = 'D') THEN 'D' ELSE 'R' END AS status
          FROM conflictvisitmaps m
         WHERE m."CONFLICTID" IN (SELECT "CONFLICTID" FROM conflictvisitmaps
                                   WHERE "VisitDate" BETWEEN %(ws)s AND %(we)s)
         GROUP BY m."CONFLICTID") s
 WHERE c."CONFLICTID" = s."CONFLICTID" AND c."StatusFlag" IS DISTINCT FROM s.status;

-- name: close_run
UPDATE pipeline_runs SET "Status" = 'succeeded', "FinishedAt" = now() WHERE "RunID" = %(run_id)s;
UPDATE settings SET "InProgressFlag" = 0, "LastLoadDate" = now() WHERE "ID" = 0;
