-- Task 01 output (domain spec A2.3). UNLOGGED: rebuilt every run; guarded by RowsStaged.
CREATE UNLOGGED TABLE visit_staging (
  "VisitID"          uuid PRIMARY KEY,
  "AppVisitID"       bigint NOT NULL,
  "SSN"              char(9) NOT NULL,
  "VisitDate"        date    NOT NULL,
  "ProviderID"       uuid    NOT NULL,
  "AppProviderID"    bigint,
  "ProviderName"     text,
  "FederalTaxNumber" varchar(9),
  "OfficeID"         uuid,
  "CaregiverID"      uuid    NOT NULL,
  "AppCaregiverID"   bigint,
  "AideCode"         varchar(20),
  "AideName"         text,
  "PatientID"        uuid    NOT NULL,
  "PAdmissionID"     varchar(30),
  "PName"            text,
  "PMedicaidNumber"  varchar(20),
  "PZipCode"         varchar(10),
  "PState"           char(2),
  "PLatitude"        double precision,
  "PLongitude"       double precision,
  "PayerID"          uuid,
  "Contract"         text,
  "ServiceCode"      varchar(20),
  "RateType"         varchar(10),
  "SchStartTime"     timestamp,
  "SchEndTime"       timestamp,
  "VisitStartTime"   timestamp,
  "VisitEndTime"     timestamp,
  "EVVStartTime"     timestamp,
  "EVVEndTime"       timestamp,
  "EVVType"          varchar(10),
  "InLatitude"       double precision,
  "InLongitude"      double precision,
  "OutLatitude"      double precision,
  "OutLongitude"     double precision,
  "Mode"             char(1) NOT NULL CHECK ("Mode" IN ('A','S','P','X')),
  "IsMissed"         boolean NOT NULL,
  "IsDeleted"        boolean NOT NULL,
  "Billed"           varchar(3),
  "BilledDate"       timestamp,
  "BilledHours"      numeric(6,2),
  "BilledRate"       numeric(10,2),
  "TotalBilledAmount" numeric(12,2),
  "SourceUpdatedAt"  timestamp NOT NULL,
  "DQFlags"          text[] NOT NULL DEFAULT '{}'
);
CREATE INDEX visit_staging_key ON visit_staging ("VisitDate", "SSN");

CREATE UNLOGGED TABLE visit_staging_rejects (
  "VisitID" uuid, "AppVisitID" bigint, "Reason" varchar(30) NOT NULL, "Detail" text
);

CREATE UNLOGGED TABLE event_staging (
  "EventID"     uuid PRIMARY KEY,
  "EventKind"   char(1) NOT NULL CHECK ("EventKind" IN ('I','P')),
  "SourceID"    uuid NOT NULL,
  "SSN"         char(9) NOT NULL,
  "CaregiverID" uuid NOT NULL,
  "ProviderID"  uuid NOT NULL,
  "StartTime"   timestamp,  "EndTime" timestamp,
  "StartDate"   date,       "EndDate" date
);
CREATE INDEX event_staging_ssn ON event_staging ("SSN");
