-- Tips from the public. The contact is encrypted (Fernet) and the receipt code kept only as a hash.
CREATE TABLE tips (
    tip_id            uuid PRIMARY KEY,
    campaign          text NOT NULL,
    province          text NOT NULL,
    industry          text NOT NULL,
    category          text NOT NULL,
    description       text NOT NULL,
    city              text,
    location          text,
    enterprise        text,
    occurred_on       date,
    contact_encrypted bytea,
    receipt_hash      bytea NOT NULL UNIQUE,
    received_at       timestamptz NOT NULL,
    status            text NOT NULL DEFAULT 'received',
    rectified         boolean,
    reward_paid       boolean,
    reply             text,
    resolved_at       timestamptz
);

-- Typical cases reported by provincial units; one per province and URL.
CREATE TABLE cases (
    case_id      uuid PRIMARY KEY,
    campaign     text NOT NULL,
    province     text NOT NULL,
    title        text NOT NULL,
    industry     text NOT NULL,
    enterprise   text NOT NULL,
    summary      text NOT NULL,
    media_outlet text NOT NULL,
    published_on date NOT NULL,
    url          text NOT NULL,
    reported_by  text NOT NULL,
    received_at  timestamptz NOT NULL,
    UNIQUE (province, url)
);
