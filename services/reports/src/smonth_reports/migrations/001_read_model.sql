-- reports' read model: one table per kind of fact, written only by its consumers.

CREATE TABLE tips (
    tip_id      uuid PRIMARY KEY,
    campaign    text NOT NULL,
    province    text NOT NULL,
    industry    text NOT NULL,
    category    text NOT NULL,
    received_at timestamptz NOT NULL,
    status      text NOT NULL DEFAULT 'received',
    rectified   boolean NOT NULL DEFAULT false,
    reward_paid boolean NOT NULL DEFAULT false
);
CREATE INDEX tips_campaign ON tips (campaign, province);

CREATE TABLE compliance (
    campaign      text NOT NULL,
    province      text NOT NULL,
    month         text NOT NULL,
    cases_counted integer NOT NULL,
    quota         integer NOT NULL,
    status        text NOT NULL,
    closed        boolean NOT NULL,
    assessed_at   timestamptz NOT NULL,
    PRIMARY KEY (campaign, province, month)
);
