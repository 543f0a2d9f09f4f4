-- Source tables (domain spec A2.1). Target schema: analytics (ANALYTICS_SCHEMA); names are
-- unqualified and resolved through search_path, so the schema name is configuration.
CREATE TABLE dim_provider (
  provider_id         uuid PRIMARY KEY,
  app_provider_id     bigint      NOT NULL,
  provider_name       text        NOT NULL,
  federal_tax_number  varchar(9),
  phone               varchar(20),
  state               char(2)     NOT NULL,
  is_active           boolean     NOT NULL DEFAULT true,
  is_demo             boolean     NOT NULL DEFAULT false
);

CREATE TABLE dim_office (
  office_id      uuid PRIMARY KEY,
  app_office_id  bigint,
  provider_id    uuid NOT NULL REFERENCES dim_provider,
  office_name    text,
  is_active      boolean NOT NULL DEFAULT true
);

CREATE TABLE dim_payer (
  payer_id      uuid PRIMARY KEY,
  app_payer_id  bigint,
  payer_name    text NOT NULL,
  payer_state   char(2),
  is_active     boolean NOT NULL DEFAULT true,
  is_demo       boolean NOT NULL DEFAULT false
);

CREATE TABLE dim_service_code (
  service_code_id  uuid PRIMARY KEY,
  service_code     varchar(20) NOT NULL,
  description      text,
  rate_type        varchar(10)
);

CREATE TABLE dim_caregiver (
  caregiver_id      uuid PRIMARY KEY,
  app_caregiver_id  bigint NOT NULL,
  provider_id       uuid   NOT NULL REFERENCES dim_provider,
  caregiver_code    varchar(20),
  first_name        text,
  last_name         text,
  ssn               varchar(20),
  status            varchar(20) NOT NULL DEFAULT 'Active'
);

CREATE TABLE dim_patient (
  patient_id       uuid PRIMARY KEY,
  app_patient_id   bigint,
  provider_id      uuid NOT NULL,
  admission_id     varchar(30),
  first_name       text,
  last_name        text,
  medicaid_number  varchar(20),
  status           varchar(20)
);

CREATE TABLE dim_patient_address (
  patient_address_id  uuid PRIMARY KEY,
  patient_id          uuid NOT NULL REFERENCES dim_patient,
  address_line1       text,
  address_line2       text,
  city                text,
  state               char(2),
  zip_code            varchar(10),
  county              text,
  latitude            double precision,
  longitude           double precision,
  is_primary          boolean NOT NULL DEFAULT true,
  address_type        varchar(20) NOT NULL DEFAULT 'GPS',
  created_at          timestamp NOT NULL
);

CREATE TABLE fact_visit (
  row_id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  visit_id              uuid    NOT NULL,
  app_visit_id          bigint  NOT NULL,
  provider_id           uuid    NOT NULL,
  office_id             uuid,
  caregiver_id          uuid    NOT NULL,
  patient_id            uuid    NOT NULL,
  payer_id              uuid,
  service_code_id       uuid,
  visit_date            date    NOT NULL,
  scheduled_start_time  timestamp,
  scheduled_end_time    timestamp,
  visit_start_time      timestamp,
  visit_end_time        timestamp,
  call_in_time          timestamp,
  call_out_time         timestamp,
  call_in_gps           varchar(64),
  call_out_gps          varchar(64),
  call_out_device_type  varchar(10),
  is_missed             boolean NOT NULL DEFAULT false,
  missed_visit_reason   text,
  billed                varchar(3) NOT NULL DEFAULT 'no',
  invoice_date          timestamp,
  billed_hours          numeric(6,2),
  billed_rate           numeric(10,2),
  bill_rate_non_billed  numeric(10,2),
  total_billed_amount   numeric(12,2),
  updated_at            timestamp NOT NULL,
  updated_by            text
);
CREATE INDEX ON fact_visit (visit_date, caregiver_id);
CREATE INDEX ON fact_visit (visit_id);

CREATE TABLE fact_visit_deleted (
  visit_id      uuid NOT NULL,
  app_visit_id  bigint,
  deleted_at    timestamp NOT NULL
);

CREATE TABLE fact_caregiver_inservice (
  inservice_id  uuid PRIMARY KEY,
  caregiver_id  uuid NOT NULL,
  provider_id   uuid NOT NULL,
  start_time    timestamp NOT NULL,
  end_time      timestamp NOT NULL,
  topic         text
);

CREATE TABLE fact_caregiver_absence (
  absence_id    uuid PRIMARY KEY,
  caregiver_id  uuid NOT NULL,
  provider_id   uuid NOT NULL,
  start_date    date NOT NULL,
  end_date      date NOT NULL,
  absence_type  varchar(20) NOT NULL
);

-- What the generator wrote (seed, size, as_of), so a second run with the same settings reuses it.
CREATE TABLE generator_runs (
  "Key"        text PRIMARY KEY,
  "Params"     jsonb NOT NULL,
  "Visits"     integer NOT NULL,
  "CreatedAt"  timestamptz NOT NULL DEFAULT now()
);
