-- notify's view of what each unit has done (written only by its consumers), and its reminders.

CREATE TABLE liaisons (
    campaign      text NOT NULL,
    unit          text NOT NULL,
    name          text NOT NULL,
    email         text NOT NULL,
    mobile        text NOT NULL,
    designated_at timestamptz NOT NULL,
    PRIMARY KEY (campaign, unit)
);

CREATE TABLE summaries (
    campaign          text NOT NULL,
    unit              text NOT NULL,
    first_received_at timestamptz NOT NULL,
    PRIMARY KEY (campaign, unit)
);

-- The newest assessment of each province-month of the exposure quota.
CREATE TABLE exposure_months (
    campaign    text NOT NULL,
    province    text NOT NULL,
    month       text NOT NULL,
    status      text NOT NULL,
    assessed_at timestamptz NOT NULL,
    PRIMARY KEY (campaign, province, month)
);

-- One row per unit, reason, occasion and channel: a reminder is never planned, so never sent, twice.
CREATE TABLE reminders (
    id          uuid PRIMARY KEY,
    campaign    text NOT NULL,
    unit        text NOT NULL,
    reason      text NOT NULL,
    occasion    text NOT NULL,
    channel     text NOT NULL,
    month       text,
    due_on      date NOT NULL,
    send_at     timestamptz NOT NULL,
    status      text NOT NULL CHECK (status IN ('planned', 'sending', 'sent', 'failed', 'cancelled')),
    recipient   text,
    attempts    integer NOT NULL DEFAULT 0,
    note        text,
    planned_at  timestamptz NOT NULL,
    finished_at timestamptz,
    UNIQUE (campaign, unit, reason, occasion, channel)
);
CREATE INDEX reminders_open ON reminders (campaign, send_at) WHERE status IN ('planned', 'sending');
CREATE INDEX reminders_of_unit ON reminders (unit, status);
