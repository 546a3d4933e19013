-- The summary is built again only when what it reads has changed: every statement that writes a
-- table the summary reads counts one more version, in the writer's own transaction, so a reader
-- whose snapshot shows a version sees exactly the rows of that version (publishing.Publisher).
--
-- The inbox counts too: each consumer transaction writes it first, so every one of them takes
-- the version's row before any row of the read model, and two replicas' transactions wait for
-- each other in that one order instead of deadlocking. The tips themselves are read only
-- through their tallies, which change with them (and a replay turns the tips' triggers off).

CREATE TABLE read_model_version (
    single  boolean PRIMARY KEY DEFAULT true CHECK (single),
    version bigint NOT NULL
);
INSERT INTO read_model_version (version) VALUES (0);

CREATE FUNCTION read_model_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE read_model_version SET version = version + 1;
    RETURN NULL;
END
$$;

DO $$
DECLARE
    written text;
BEGIN
    FOREACH written IN ARRAY ARRAY['inbox', 'progress', 'liaisons', 'summary_reports',
                                   'materials', 'cases', 'compliance', 'tip_tally',
                                   'tip_arrivals', 'reminders'] LOOP
        EXECUTE format('CREATE TRIGGER read_model_changed'
                       ' AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON %I'
                       ' FOR EACH STATEMENT EXECUTE FUNCTION read_model_changed()', written);
    END LOOP;
END
$$;
