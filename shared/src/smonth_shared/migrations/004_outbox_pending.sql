-- The relay's queue: the sequence numbers of the rows still to publish. Marking a row published
-- was an UPDATE of the outbox row (a new copy of the row and of its index entries, about 50 µs
-- of the database's time a row); taking its number off this narrow table costs a tenth of that.
-- A parked row leaves the queue; to send it again once mended, put its seq back.
DROP INDEX outbox_pending;  -- its name is the queue's now
CREATE TABLE outbox_pending (seq bigint PRIMARY KEY);
INSERT INTO outbox_pending (seq)
    SELECT seq FROM outbox WHERE published_at IS NULL AND parked_reason IS NULL;
ALTER TABLE outbox DROP COLUMN published_at;
-- Parked rows, for the operator's gauge, without reading the whole outbox.
CREATE INDEX outbox_parked ON outbox (seq) WHERE parked_reason IS NOT NULL;
