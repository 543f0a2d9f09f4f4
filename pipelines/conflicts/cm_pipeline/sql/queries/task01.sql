-- Task 01 (domain spec A3): the normalised, de-duplicated, window-filtered visit_staging.
-- Parameters: %(ws)s / %(we)s window (inclusive dates), %(run_id)s. No NOW() in task SQL.

-- name: settings
SELECT "LookbackYears", "LookaheadDays", "MinOverlapMinutes", "ExtraDistancePer" FROM settings WHERE "ID" = 0;

-- name: truncate
TRUNCATE visit_staging, visit_staging_rejects, event_staging;

-- name: caregivers
-- One row per caregiver: SSN reduced to ASCII digits, and why its visits would be rejected.
CREATE TEMP TABLE t01_caregiver ON COMMIT DROP AS
SELECT c.caregiver_id, c.provider_id, c.app_caregiver_id, c.caregiver_code,
       concat_ws(' ', c.first_name, c.last_name) AS aide_name,
       d.ssn, (coalesce(c.ssn, '') !~ '^[0-9]{9}$') AS reformatted,
       CASE WHEN d.ssn = '' THEN 'SSN_EMPTY'
            WHEN length(d.ssn) <> 9 THEN 'SSN_MALFORMED'
            WHEN EXISTS (SELECT 1 FROM excluded_ssn x WHERE x."SSN" = d.ssn) THEN 'SSN_EXCLUDED'
       END AS ssn_reason
  FROM dim_caregiver c
 CROSS JOIN LATERAL (SELECT regexp_replace(coalesce(c.ssn, ''), '[^0-9]', '', 'g') AS ssn) d;
CREATE INDEX ON t01_caregiver (caregiver_id);
ANALYZE t01_caregiver;

-- name: providers
CREATE TEMP TABLE t01_provider ON COMMIT DROP AS
SELECT p.provider_id, p.app_provider_id, p.provider_name, p.federal_tax_number,
       CASE WHEN EXISTS (SELECT 1 FROM excluded_agency e WHERE e."ProviderID" = p.provider_id) THEN 'PROVIDER_EXCLUDED'
            WHEN NOT p.is_active OR p.is_demo THEN 'PROVIDER_INACTIVE_OR_DEMO'
       END AS provider_reason
  FROM dim_provider p;
ANALYZE t01_provider;

-- name: home_addresses
-- The latest primary GPS address of each patient.
CREATE TEMP TABLE t01_home ON COMMIT DROP AS
SELECT DISTINCT ON (patient_id) patient_id, zip_code, state, latitude, longitude
  FROM dim_patient_address
 WHERE is_primary AND address_type LIKE '%%GPS%%'
 ORDER BY patient_id, created_at DESC, patient_address_id DESC;
ANALYZE t01_home;

-- name: visits
-- The newest version of each visit_id (greatest updated_at, then row_id), its rejection reason
-- (the first that applies) and whether each GPS text has the shape 'lat,lon' once '"' and spaces go.
CREATE TEMP TABLE t01_visit ON COMMIT DROP AS
SELECT v.*, c.ssn, c.reformatted, c.app_caregiver_id, c.caregiver_code, c.aide_name, p.app_provider_id,
       p.provider_name, p.federal_tax_number,
       CASE WHEN v.visit_date NOT BETWEEN %(ws)s AND %(we)s THEN 'OUTSIDE_WINDOW'
            WHEN c.caregiver_id IS NULL THEN 'NO_CAREGIVER'
            WHEN c.ssn_reason IS NOT NULL THEN c.ssn_reason
            WHEN p.provider_id IS NULL THEN 'PROVIDER_INACTIVE_OR_DEMO'
            ELSE p.provider_reason
       END AS reason,
       gi.txt AS gin, (gi.txt ~ '^[+-]?[0-9]{1,3}(\.[0-9]{1,20})?,[+-]?[0-9]{1,3}(\.[0-9]{1,20})?$') AS gin_ok,
       go.txt AS gout, (go.txt ~ '^[+-]?[0-9]{1,3}(\.[0-9]{1,20})?,[+-]?[0-9]{1,3}(\.[0-9]{1,20})?$') AS gout_ok
  FROM (SELECT f.*, coalesce(d.versions, 1) AS versions
          FROM fact_visit f
          LEFT JOIN (SELECT visit_id, count(*) AS versions FROM fact_visit GROUP BY visit_id HAVING count(*) > 1) d
                 ON d.visit_id = f.visit_id
         WHERE d.visit_id IS NULL
            OR f.row_id = (SELECT n.row_id FROM fact_visit n WHERE n.visit_id = f.visit_id
                            ORDER BY n.updated_at DESC, n.row_id DESC LIMIT 1)) v
 CROSS JOIN LATERAL (SELECT replace(replace(v.call_in_gps, '"', ''), ' ', '') AS txt) gi
 CROSS JOIN LATERAL (SELECT replace(replace(v.call_out_gps, '"', ''), ' ', '') AS txt) go
  LEFT JOIN t01_caregiver c ON c.caregiver_id = v.caregiver_id
  LEFT JOIN t01_provider p ON p.provider_id = v.provider_id;

-- name: rejects
INSERT INTO visit_staging_rejects ("VisitID", "AppVisitID", "Reason", "Detail")
SELECT visit_id, app_visit_id, reason, NULL FROM t01_visit WHERE reason IS NOT NULL;

-- name: stage
INSERT INTO visit_staging
SELECT v.visit_id, v.app_visit_id, v.ssn, v.visit_date, v.provider_id, v.app_provider_id, v.provider_name,
       v.federal_tax_number, v.office_id, v.caregiver_id, v.app_caregiver_id, v.caregiver_code, v.aide_name,
       v.patient_id, pt.admission_id, concat_ws(' ', pt.first_name, pt.last_name), pt.medicaid_number,
       h.zip_code, h.state, h.latitude, h.longitude,
       v.payer_id, py.payer_name, sc.service_code, sc.rate_type,
       t.ss, t.se, t.vs, t.ve, date_trunc('minute', v.call_in_time), date_trunc('minute', v.call_out_time),
       v.call_out_device_type,
       g.in_lat, g.in_lon, g.out_lat, g.out_lon,
       m.mode, v.is_missed, (d.visit_id IS NOT NULL),
       v.billed, v.invoice_date, v.billed_hours, v.billed_rate, v.total_billed_amount, v.updated_at,
       array_remove(ARRAY[
         CASE WHEN v.versions > 1 THEN 'DUP_VISIT_ID' END,
         CASE WHEN v.reformatted THEN 'SSN_REFORMATTED' END,
         CASE WHEN v.call_in_gps IS NOT NULL AND g.in_lat IS NULL THEN 'GPS_IN_INVALID' END,
         CASE WHEN v.call_out_gps IS NOT NULL AND g.out_lat IS NULL THEN 'GPS_OUT_INVALID' END,
         CASE WHEN t.se::date > t.ss::date THEN 'OVERNIGHT' END,
         CASE WHEN m.mode = 'X' THEN 'INVALID_INTERVAL' END]::text[], NULL)
  FROM t01_visit v
 CROSS JOIN LATERAL (SELECT date_trunc('minute', v.scheduled_start_time) AS ss,
                            date_trunc('minute', v.scheduled_end_time) AS se,
                            date_trunc('minute', v.visit_start_time) AS vs,
                            date_trunc('minute', v.visit_end_time) AS ve) t
 CROSS JOIN LATERAL (SELECT CASE WHEN t.vs IS NOT NULL AND t.ve IS NOT NULL THEN CASE WHEN t.ve > t.vs THEN 'A' ELSE 'X' END
                                 WHEN t.vs IS NULL AND t.ve IS NULL THEN
                                      CASE WHEN t.ss IS NOT NULL AND t.se IS NOT NULL AND t.se > t.ss THEN 'S' ELSE 'X' END
                                 ELSE 'P' END AS mode) m
 CROSS JOIN LATERAL (SELECT CASE WHEN v.gin_ok THEN split_part(v.gin, ',', 1)::float8 END AS ilat,
                            CASE WHEN v.gin_ok THEN split_part(v.gin, ',', 2)::float8 END AS ilon,
                            CASE WHEN v.gout_ok THEN split_part(v.gout, ',', 1)::float8 END AS olat,
                            CASE WHEN v.gout_ok THEN split_part(v.gout, ',', 2)::float8 END AS olon) r
 CROSS JOIN LATERAL (SELECT
        CASE WHEN abs(r.ilat) <= 90 AND abs(r.ilon) <= 180 AND NOT (r.ilat = 0 AND r.ilon = 0) THEN r.ilat END AS in_lat,
        CASE WHEN abs(r.ilat) <= 90 AND abs(r.ilon) <= 180 AND NOT (r.ilat = 0 AND r.ilon = 0) THEN r.ilon END AS in_lon,
        CASE WHEN abs(r.olat) <= 90 AND abs(r.olon) <= 180 AND NOT (r.olat = 0 AND r.olon = 0) THEN r.olat END AS out_lat,
        CASE WHEN abs(r.olat) <= 90 AND abs(r.olon) <= 180 AND NOT (r.olat = 0 AND r.olon = 0) THEN r.olon END AS out_lon) g
  LEFT JOIN dim_patient pt ON pt.patient_id = v.patient_id
  LEFT JOIN t01_home h ON h.patient_id = v.patient_id
  LEFT JOIN dim_payer py ON py.payer_id = v.payer_id
  LEFT JOIN dim_service_code sc ON sc.service_code_id = v.service_code_id
  LEFT JOIN (SELECT DISTINCT visit_id FROM fact_visit_deleted) d ON d.visit_id = v.visit_id
 WHERE v.reason IS NULL;

-- name: events
-- In-service trainings and absences whose span touches the window, as pseudo-visits (rules 8, 9).
INSERT INTO event_staging ("EventID", "EventKind", "SourceID", "SSN", "CaregiverID", "ProviderID",
                           "StartTime", "EndTime", "StartDate", "EndDate")
SELECT md5('I' || i.inservice_id::text)::uuid, 'I', i.inservice_id, c.ssn, i.caregiver_id, i.provider_id,
       date_trunc('minute', i.start_time), date_trunc('minute', i.end_time), NULL, NULL
  FROM fact_caregiver_inservice i
  JOIN t01_caregiver c ON c.caregiver_id = i.caregiver_id AND c.ssn_reason IS NULL
  JOIN t01_provider p ON p.provider_id = i.provider_id AND p.provider_reason IS NULL
 WHERE i.end_time::date >= %(ws)s AND i.start_time::date <= %(we)s
UNION ALL
SELECT md5('P' || a.absence_id::text)::uuid, 'P', a.absence_id, c.ssn, a.caregiver_id, a.provider_id,
       NULL, NULL, a.start_date, a.end_date
  FROM fact_caregiver_absence a
  JOIN t01_caregiver c ON c.caregiver_id = a.caregiver_id AND c.ssn_reason IS NULL
  JOIN t01_provider p ON p.provider_id = a.provider_id AND p.provider_reason IS NULL
 WHERE a.end_date >= %(ws)s AND a.start_date <= %(we)s;

-- name: reject_counts
SELECT "Reason", count(*) FROM visit_staging_rejects GROUP BY "Reason" ORDER BY "Reason";

-- name: counts
SELECT (SELECT count(*) FROM visit_staging), (SELECT count(*) FROM event_staging);

-- name: start_run
INSERT INTO pipeline_runs ("RunID", "AsOf", "WindowStart", "WindowEnd", "RowsStaged", "Params")
VALUES (%(run_id)s, %(as_of)s, %(ws)s, %(we)s, %(rows)s, %(params)s);

-- name: mark_staging
INSERT INTO staging_run ("ID", "RunID") VALUES (0, %(run_id)s)
ON CONFLICT ("ID") DO UPDATE SET "RunID" = EXCLUDED."RunID";

-- name: in_progress
UPDATE settings SET "InProgressFlag" = 1 WHERE "ID" = 0;

-- name: analyze
ANALYZE visit_staging ("VisitDate", "SSN", "Mode", "ProviderID");
