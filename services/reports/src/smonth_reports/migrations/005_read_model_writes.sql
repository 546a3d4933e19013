-- The summary reads again only the parts of the read model written since it last read them: the
-- version's row records, beside the version, the version of each table's last write (in the same
-- statement, so the lock order of migration 004 stands). A batch of tips then costs the summary
-- its two tallies instead of every table (B2: freshness).

ALTER TABLE read_model_version ADD COLUMN written jsonb NOT NULL DEFAULT '{}';

CREATE OR REPLACE FUNCTION read_model_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Both sides read the row as it was: the table's entry is the version this write makes.
    UPDATE read_model_version
    SET version = version + 1, written = written || jsonb_build_object(TG_TABLE_NAME, version + 1);
    RETURN NULL;
END
$$;
