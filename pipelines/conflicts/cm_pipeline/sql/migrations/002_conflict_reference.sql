-- Reference and configuration tables with their default rows (domain spec A2.2), and the two
-- SQL helpers every task uses. Target schema: conflict (CONFLICT_SCHEMA).
CREATE TABLE settings (
  "ID"                 smallint PRIMARY KEY DEFAULT 0 CHECK ("ID" = 0),
  "ExtraDistancePer"   double precision NOT NULL DEFAULT 1.0,
  "MinOverlapMinutes"  integer NOT NULL DEFAULT 1 CHECK ("MinOverlapMinutes" >= 1),
  "LookbackYears"      integer NOT NULL DEFAULT 2,
  "LookaheadDays"      integer NOT NULL DEFAULT 30,
  "InProgressFlag"     smallint NOT NULL DEFAULT 0,
  "LastLoadDate"       timestamp
);
INSERT INTO settings ("ID") VALUES (0);

CREATE TABLE mph (
  "ID"                   serial PRIMARY KEY,
  "From"                 numeric(8,2) NOT NULL,
  "To"                   numeric(8,2),
  "AverageMilesPerHour"  numeric(6,2) NOT NULL CHECK ("AverageMilesPerHour" > 0)
);
INSERT INTO mph ("From", "To", "AverageMilesPerHour") VALUES
  (0, 2, 2), (2, 5, 6), (5, 10, 15), (10, 25, 25), (25, 50, 45), (50, 100, 55), (100, NULL, 60);

CREATE TABLE excluded_agency ("ProviderID" uuid PRIMARY KEY, "AgencyName" text);
CREATE TABLE excluded_ssn ("SSN" char(9) PRIMARY KEY CHECK ("SSN" ~ '^[0-9]{9}$'));
INSERT INTO excluded_ssn VALUES ('000000000'), ('999999999');

-- CONFLICTID = stable_id(anchor id): 63 bits of MD5 (A4.6); Python: int(md5(s)[:16], 16) & (2**63-1).
CREATE FUNCTION stable_id(id uuid) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE
AS $$ SELECT (('x' || substr(md5(id::text), 1, 16))::bit(64)::bigint) & 9223372036854775807 $$;
