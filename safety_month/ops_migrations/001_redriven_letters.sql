-- The operator's own schema. Each dead letter re-driven by `safety-month deadletters redrive`,
-- once: the primary key refuses a second redrive of the same letter, even one racing the first.
CREATE TABLE redriven_letters (
    letter         text PRIMARY KEY,  -- its place on the dead-letter topic: partition/offset
    original_topic text NOT NULL,
    event_type     text NOT NULL,
    redriven_at    timestamptz NOT NULL DEFAULT now()
);
