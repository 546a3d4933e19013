-- A reminder the mail server or the SMS gateway could not take for a while (a time-out, a 4xx,
-- an outage) is tried again later the same day instead of being given up: it waits 'planned'
-- until retry_at, its note holding the last error.
ALTER TABLE reminders ADD COLUMN retry_at timestamptz;
