-- The transaction that wrote each outbox row. Sequence numbers are taken in the order rows are
-- written, not committed: the relay publishes a row only once every transaction that started
-- before it has ended, so a key's events never overtake each other.
ALTER TABLE outbox ADD COLUMN txid xid8 NOT NULL DEFAULT pg_current_xact_id();
