-- Who may sign in: the office's staff and admins, and each unit's liaison, issued by the office.
CREATE TABLE accounts (
    -- Random, not a sequence: not guessable, and unique across deployments' access topics.
    account_id       text PRIMARY KEY,
    email            text NOT NULL,
    name             text NOT NULL,
    role             text NOT NULL CHECK (role IN ('unit', 'staff', 'admin')),
    unit             text,
    status           text NOT NULL CHECK (status IN ('invited', 'active', 'withdrawn')),
    password_hash    text,  -- argon2id; NULL until the invitation is taken up
    created_by       text NOT NULL,
    created_at       timestamptz NOT NULL,
    activated_at     timestamptz,
    withdrawn_at     timestamptz,
    withdrawn_reason text,
    last_sign_in     timestamptz,
    CHECK ((role = 'unit') = (unit IS NOT NULL))
);
-- One live account per address: a withdrawn one stays for the record.
CREATE UNIQUE INDEX accounts_one_live_per_email ON accounts (lower(email))
    WHERE status <> 'withdrawn';
CREATE INDEX accounts_by_unit ON accounts (unit) WHERE unit IS NOT NULL;

-- One-time links of an invitation or a password reset: only their SHA-256 is kept.
CREATE TABLE account_links (
    link_hash  bytea PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts,
    purpose    text NOT NULL CHECK (purpose IN ('activation', 'reset')),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

-- A signed-in browser or app: its refresh token (hashed) turns over at each refresh.
CREATE TABLE sessions (
    session_id   text PRIMARY KEY,
    account_id   text NOT NULL REFERENCES accounts,
    refresh_hash bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    refreshed_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    ended_at     timestamptz
);
CREATE INDEX sessions_live_by_account ON sessions (account_id) WHERE ended_at IS NULL;

-- Failed sign-ins, counted per address and per client address for the lock-out.
CREATE TABLE sign_in_failures (
    failed_at timestamptz NOT NULL,
    email     text NOT NULL,
    address   text NOT NULL
);
CREATE INDEX sign_in_failures_by_email ON sign_in_failures (lower(email), failed_at);
CREATE INDEX sign_in_failures_by_address ON sign_in_failures (address, failed_at);

-- Ministry systems (OAuth2 client credentials) and the units each may act for.
CREATE TABLE clients (
    client_id     text PRIMARY KEY,
    name          text NOT NULL,
    secret_hash   bytea NOT NULL,
    units         text[] NOT NULL,
    status        text NOT NULL CHECK (status IN ('active', 'withdrawn')),
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    withdrawn_at  timestamptz,
    last_token_at timestamptz
);

-- Mail to send (invitations, resets): the body is encrypted, as it carries a one-time link.
CREATE TABLE account_mail (
    mail_id         bigserial PRIMARY KEY,
    to_address      text NOT NULL,
    subject         text NOT NULL,
    body            bytea NOT NULL,
    created_at      timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL,
    last_error      text,
    sent_at         timestamptz
);
CREATE INDEX account_mail_due ON account_mail (next_attempt_at) WHERE sent_at IS NULL;
