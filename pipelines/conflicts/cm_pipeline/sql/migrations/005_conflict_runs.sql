-- Run and chunk bookkeeping (domain spec A2.5), plus which run built the current staging.
CREATE TABLE pipeline_runs (
  "RunID" uuid PRIMARY KEY, "AsOf" date NOT NULL,
  "WindowStart" date NOT NULL, "WindowEnd" date NOT NULL,
  "RowsStaged" integer NOT NULL,
  "StartedAt" timestamptz NOT NULL DEFAULT now(), "FinishedAt" timestamptz,
  "Status" varchar(10) NOT NULL DEFAULT 'running', "Params" jsonb NOT NULL
);
CREATE TABLE task02_chunks (
  "RunID" uuid NOT NULL REFERENCES pipeline_runs, "ChunkID" integer NOT NULL,
  "EstRows" integer NOT NULL, "NKeys" integer NOT NULL,
  "Status" varchar(10) NOT NULL DEFAULT 'pending'
           CHECK ("Status" IN ('pending','running','done','failed')),
  "Attempts" integer NOT NULL DEFAULT 0, "LeaseUntil" timestamptz,
  "RowsUpserted" integer, "RowsResolved" integer, "Error" text,
  "StartedAt" timestamptz, "FinishedAt" timestamptz,
  PRIMARY KEY ("RunID", "ChunkID")
);
CREATE TABLE task02_chunk_keys (
  "RunID" uuid NOT NULL, "ChunkID" integer NOT NULL,
  "VisitDate" date NOT NULL, "SSN" char(9) NOT NULL, "EstRows" integer NOT NULL,
  PRIMARY KEY ("RunID", "VisitDate", "SSN")
);
CREATE INDEX task02_chunk_keys_chunk ON task02_chunk_keys ("RunID", "ChunkID");

-- One row: the run whose Task 01 built visit_staging (a logged table, unlike the staging).
CREATE TABLE staging_run (
  "ID" smallint PRIMARY KEY DEFAULT 0 CHECK ("ID" = 0),
  "RunID" uuid NOT NULL REFERENCES pipeline_runs
);

-- Optional "before" image of the in-window conflict rows (A2.6); not needed for correctness.
CREATE TABLE conflictvisitmaps_temp (LIKE conflictvisitmaps);
