-- A row the broker can never take (too large, say) is parked with the reason, so it does not
-- block the rows behind it; an operator reads the reason and mends the event.
ALTER TABLE outbox ADD COLUMN parked_reason text;
