-- The relay's read as one statement, so one round trip with no BEGIN and COMMIT of its own: the
-- writers' lock first (waiting at most `lock_wait`), then the pending rows. Under READ COMMITTED a
-- VOLATILE function's every query takes a snapshot of its own when it starts, so the rows are read
-- after each writer that held the shared lock has committed, while the lock is still held (until
-- the statement ends): no row is read before one with a lower sequence number is committed.
CREATE FUNCTION outbox_committed_pending(writers_lock text, lock_wait text, after_seq bigint,
                                         batch integer)
RETURNS TABLE (seq bigint, topic text, key text, event_type text, value bytea, headers jsonb)
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM set_config('lock_timeout', lock_wait, true);
    PERFORM pg_advisory_xact_lock(hashtext(writers_lock));
    RETURN QUERY
        -- The queue's next numbers first, then their rows: one look-up of the key for each.
        SELECT o.seq, o.topic, o.key, o.event_type, o.value, o.headers
        FROM (SELECT p.seq FROM outbox_pending AS p WHERE p.seq > after_seq
              ORDER BY p.seq LIMIT batch) AS pending
        JOIN outbox AS o ON o.seq = pending.seq
        ORDER BY o.seq;
END
$$;
