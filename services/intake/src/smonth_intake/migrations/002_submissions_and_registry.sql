-- The addressed units: seeded from the campaign's registry at start, extended by CSV imports.
CREATE TABLE units (
    campaign   text NOT NULL,
    code       text NOT NULL,
    name       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('province', 'ministry', 'central_enterprise')),
    province   text,
    source     text NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (campaign, code)
);

-- Attachment 1: cumulative snapshots; a resubmission for the same date is a new revision.
CREATE TABLE progress_snapshots (
    submission_id uuid PRIMARY KEY,
    campaign      text NOT NULL,
    unit          text NOT NULL,
    as_of         date NOT NULL,
    revision      integer NOT NULL CHECK (revision >= 1),
    indicators    jsonb NOT NULL,
    submitted_by  text NOT NULL,
    received_at   timestamptz NOT NULL,
    UNIQUE (campaign, unit, as_of, revision)
);

-- Attachment 2: every designation is kept; exactly one per unit is active (not replaced).
CREATE TABLE liaisons (
    liaison_id    uuid PRIMARY KEY,
    campaign      text NOT NULL,
    unit          text NOT NULL,
    name          text NOT NULL,
    position      text NOT NULL,
    office_phone  text NOT NULL,
    mobile        text NOT NULL,
    email         text NOT NULL,
    designated_by text NOT NULL,
    designated_at timestamptz NOT NULL,
    replaced_at   timestamptz
);
CREATE UNIQUE INDEX liaisons_one_active ON liaisons (campaign, unit) WHERE replaced_at IS NULL;

-- The summary report of a unit as it stands, with its first (and first on-time) receipt.
CREATE TABLE summary_reports (
    report_id           uuid PRIMARY KEY,
    campaign            text NOT NULL,
    unit                text NOT NULL,
    title               text NOT NULL,
    body                text NOT NULL,
    file                jsonb,
    first_received_at   timestamptz NOT NULL,
    last_received_at    timestamptz NOT NULL,
    on_time             boolean NOT NULL,
    on_time_received_at timestamptz,
    UNIQUE (campaign, unit)
);

-- Every submission of a summary report, as received.
CREATE TABLE summary_submissions (
    submission_id uuid PRIMARY KEY,
    report_id     uuid NOT NULL REFERENCES summary_reports,
    title         text NOT NULL,
    body          text NOT NULL,
    file          jsonb,
    on_time       boolean NOT NULL,
    submitted_by  text NOT NULL,
    received_at   timestamptz NOT NULL
);

-- Good practices, videos and pictures; the bytes are in the blob store under file->>'location'.
CREATE TABLE materials (
    material_id  uuid PRIMARY KEY,
    campaign     text NOT NULL,
    unit         text NOT NULL,
    kind         text NOT NULL,
    title        text NOT NULL,
    description  text NOT NULL,
    file         jsonb,
    submitted_by text NOT NULL,
    received_at  timestamptz NOT NULL
);

-- Requests per client address and fixed window (public endpoints), shared by every replica.
CREATE TABLE request_rate (
    bucket       text NOT NULL,
    window_start timestamptz NOT NULL,
    hits         integer NOT NULL,
    PRIMARY KEY (bucket, window_start)
);
CREATE INDEX request_rate_window ON request_rate (window_start);

-- Who read a tipster's contact details, and when.
CREATE TABLE tip_contact_reads (
    tip_id  uuid NOT NULL REFERENCES tips,
    read_by text NOT NULL,
    read_at timestamptz NOT NULL
);

ALTER TABLE tips ADD COLUMN resolved_by text;
