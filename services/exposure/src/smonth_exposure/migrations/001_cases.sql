-- exposure's own state: every case reported, and the tally of every province-month.

-- Each case as reported, with the verdict on receipt (counted, or why not) and any rejection.
-- A case counts toward its province-month while it is `counted` and not rejected.
CREATE TABLE cases (
    case_id               uuid PRIMARY KEY,
    campaign              text NOT NULL,
    province              text NOT NULL,
    month                 text NOT NULL,
    title                 text NOT NULL,
    industry              text NOT NULL,
    enterprise            text NOT NULL,
    summary               text NOT NULL,
    media_outlet          text NOT NULL,
    published_on          date NOT NULL,
    url                   text NOT NULL,
    reported_at           timestamptz NOT NULL,
    counted               boolean NOT NULL,
    not_counted_reason    text,
    not_counted_reason_zh text,
    rejected_at           timestamptz,
    rejected_by           text,
    rejection_reason      text,
    CHECK (counted = (not_counted_reason IS NULL)),
    CHECK ((rejected_at IS NULL) = (rejection_reason IS NULL))
);
CREATE INDEX cases_by_province_month ON cases (campaign, province, month, published_on);

-- The cases counting toward each province-month, and when the month was closed by the clock.
-- The row is also the lock that serialises every change of one province-month's assessment.
CREATE TABLE province_months (
    campaign      text NOT NULL,
    province      text NOT NULL,
    month         text NOT NULL,
    cases_counted integer NOT NULL DEFAULT 0 CHECK (cases_counted >= 0),
    closed_at     timestamptz,
    PRIMARY KEY (campaign, province, month)
);
