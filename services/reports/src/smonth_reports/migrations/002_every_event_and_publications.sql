-- The rest of the read model (one table per kind of fact, written only by its consumers), and
-- what reports itself owns: the summaries it published and the artifacts behind their links.

-- The newest snapshot of each unit: a snapshot replaces the row only if it is newer (as_of, then
-- revision), so a superseded snapshot never counts, whatever order the events arrive in.
CREATE TABLE progress (
    campaign      text NOT NULL,
    unit          text NOT NULL,
    as_of         date NOT NULL,
    revision      integer NOT NULL,
    submission_id uuid NOT NULL,
    indicators    jsonb NOT NULL,
    reported_at   timestamptz NOT NULL,
    PRIMARY KEY (campaign, unit)
);

CREATE TABLE liaisons (
    campaign      text NOT NULL,
    unit          text NOT NULL,
    name          text NOT NULL,
    position      text NOT NULL,
    office_phone  text NOT NULL,
    mobile        text NOT NULL,
    email         text NOT NULL,
    designated_at timestamptz NOT NULL,
    PRIMARY KEY (campaign, unit)
);

-- One row per unit: its first and latest receipt, whether it was ever on time, how many it sent.
CREATE TABLE summary_reports (
    campaign          text NOT NULL,
    unit              text NOT NULL,
    report_id         uuid NOT NULL,
    title             text NOT NULL,
    first_received_at timestamptz NOT NULL,
    last_received_at  timestamptz NOT NULL,
    on_time           boolean NOT NULL,
    submissions       integer NOT NULL,
    PRIMARY KEY (campaign, unit)
);

CREATE TABLE materials (
    material_id  uuid PRIMARY KEY,
    campaign     text NOT NULL,
    unit         text NOT NULL,
    kind         text NOT NULL,
    title        text NOT NULL,
    has_file     boolean NOT NULL,
    submitted_at timestamptz NOT NULL
);
CREATE INDEX materials_campaign ON materials (campaign, unit);

CREATE TABLE cases (
    case_id      uuid PRIMARY KEY,
    campaign     text NOT NULL,
    province     text NOT NULL,
    title        text NOT NULL,
    industry     text NOT NULL,
    enterprise   text NOT NULL,
    media_outlet text NOT NULL,
    published_on date NOT NULL,
    url          text NOT NULL,
    reported_at  timestamptz NOT NULL,
    rejected     boolean NOT NULL DEFAULT false,
    reason       text
);
CREATE INDEX cases_campaign ON cases (campaign, province);

ALTER TABLE tips ADD COLUMN named boolean NOT NULL DEFAULT false;
ALTER TABLE tips ADD COLUMN resolved_at timestamptz;

-- Every reminder outcome notify announced (a reminder that failed by e-mail and then went out by
-- SMS has two rows).
CREATE TABLE reminders (
    event_id    uuid PRIMARY KEY,
    campaign    text NOT NULL,
    reminder_id uuid NOT NULL,
    unit        text NOT NULL,
    reason      text NOT NULL,
    occasion    text NOT NULL,
    channel     text NOT NULL,
    recipient   text NOT NULL,
    attempts    integer NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('sent', 'failed')),
    error       text,
    at          timestamptz NOT NULL
);
CREATE INDEX reminders_campaign ON reminders (campaign, at);

-- Not read model: reports' own records, which a replay leaves alone.

-- When the schedule of a campaign started here: publication moments before it are not owed.
CREATE TABLE publication_schedule (
    campaign text PRIMARY KEY,
    since    timestamptz NOT NULL
);

-- Each published summary; a scheduled moment is published once (the unique key), whoever tries.
CREATE TABLE publications (
    publication_id uuid PRIMARY KEY,
    campaign       text NOT NULL,
    trigger        text NOT NULL,
    moment         timestamptz,
    as_of          timestamptz NOT NULL,
    UNIQUE (campaign, moment)
);

-- The bytes behind an artifact's link, so its checksum holds for as long as the link is given out.
CREATE TABLE artifacts (
    publication_id uuid NOT NULL REFERENCES publications,
    name           text NOT NULL,
    format         text NOT NULL,
    media_type     text NOT NULL,
    sha256         text NOT NULL,
    content        bytea NOT NULL,
    PRIMARY KEY (publication_id, name)
);
