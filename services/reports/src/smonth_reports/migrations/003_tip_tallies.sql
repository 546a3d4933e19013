-- The summary counts tips by province, industry and status, and by day of arrival. Counting the
-- tips table on every read grows with the month (114,000 tips in 2021); these tallies are kept
-- by triggers on every write path (live batches, one-by-one fallback) in the same transaction,
-- so they never disagree with the tips they count; a replay counts them once at its end, in its
-- own transaction (repository.tips_tallied_at_the_end).

CREATE TABLE tip_tally (
    campaign    text NOT NULL,
    province    text NOT NULL,
    industry    text NOT NULL,
    status      text NOT NULL,
    tips        integer NOT NULL,
    rectified   integer NOT NULL,
    reward_paid integer NOT NULL,
    named       integer NOT NULL,
    PRIMARY KEY (campaign, province, industry, status)
);

-- Arrivals per quarter of an hour (UTC): every time zone's days are whole quarters, so the
-- summary can count days in the campaign's zone, whichever it is.
CREATE TABLE tip_arrivals (
    campaign text NOT NULL,
    quarter  timestamptz NOT NULL,
    tips     integer NOT NULL,
    PRIMARY KEY (campaign, quarter)
);

-- Signed counts, summed per key in a fixed order, so that two transactions touching the same
-- keys wait for each other instead of deadlocking. Plans are made per branch when it first runs,
-- so each branch names only the transition tables its operation has.
CREATE FUNCTION tips_counted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO tip_tally AS t
        SELECT campaign, province, industry, status, count(*), count(*) FILTER (WHERE rectified),
               count(*) FILTER (WHERE reward_paid), count(*) FILTER (WHERE named)
        FROM added GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (campaign, province, industry, status) DO UPDATE SET
            tips = t.tips + EXCLUDED.tips, rectified = t.rectified + EXCLUDED.rectified,
            reward_paid = t.reward_paid + EXCLUDED.reward_paid, named = t.named + EXCLUDED.named;
        INSERT INTO tip_arrivals AS a
        SELECT campaign, date_bin('15 minutes', received_at, timestamptz '2000-01-01 00:00Z'),
               count(*)
        FROM added GROUP BY 1, 2 ORDER BY 1, 2
        ON CONFLICT (campaign, quarter) DO UPDATE SET tips = a.tips + EXCLUDED.tips;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO tip_tally AS t
        SELECT campaign, province, industry, status, sum(tips), sum(rectified), sum(reward_paid),
               sum(named)
        FROM (SELECT campaign, province, industry, status, 1 AS tips, rectified::int AS rectified,
                     reward_paid::int AS reward_paid, named::int AS named FROM added
              UNION ALL
              SELECT campaign, province, industry, status, -1, -rectified::int,
                     -reward_paid::int, -named::int FROM removed) AS change
        GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
        ON CONFLICT (campaign, province, industry, status) DO UPDATE SET
            tips = t.tips + EXCLUDED.tips, rectified = t.rectified + EXCLUDED.rectified,
            reward_paid = t.reward_paid + EXCLUDED.reward_paid, named = t.named + EXCLUDED.named;
        -- Arrival times never change.
    ELSE
        UPDATE tip_tally AS t SET tips = t.tips - r.tips, rectified = t.rectified - r.rectified,
                                  reward_paid = t.reward_paid - r.reward_paid,
                                  named = t.named - r.named
        FROM (SELECT campaign, province, industry, status, count(*) AS tips,
                     count(*) FILTER (WHERE rectified) AS rectified,
                     count(*) FILTER (WHERE reward_paid) AS reward_paid,
                     count(*) FILTER (WHERE named) AS named
              FROM removed GROUP BY 1, 2, 3, 4) AS r
        WHERE (t.campaign, t.province, t.industry, t.status)
              = (r.campaign, r.province, r.industry, r.status);
        UPDATE tip_arrivals AS a SET tips = a.tips - r.tips
        FROM (SELECT campaign, date_bin('15 minutes', received_at,
                                        timestamptz '2000-01-01 00:00Z') AS quarter,
                     count(*) AS tips
              FROM removed GROUP BY 1, 2) AS r
        WHERE a.campaign = r.campaign AND a.quarter = r.quarter;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER tips_counted_insert AFTER INSERT ON tips
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION tips_counted();
CREATE TRIGGER tips_counted_update AFTER UPDATE ON tips
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION tips_counted();
CREATE TRIGGER tips_counted_delete AFTER DELETE ON tips
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION tips_counted();

CREATE FUNCTION tips_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE tip_tally, tip_arrivals;
    RETURN NULL;
END
$$;

CREATE TRIGGER tips_emptied AFTER TRUNCATE ON tips
    FOR EACH STATEMENT EXECUTE FUNCTION tips_emptied();

INSERT INTO tip_tally (campaign, province, industry, status, tips, rectified, reward_paid, named)
SELECT campaign, province, industry, status, count(*), count(*) FILTER (WHERE rectified),
       count(*) FILTER (WHERE reward_paid), count(*) FILTER (WHERE named)
FROM tips GROUP BY 1, 2, 3, 4;

INSERT INTO tip_arrivals (campaign, quarter, tips)
SELECT campaign, date_bin('15 minutes', received_at, timestamptz '2000-01-01 00:00Z'), count(*)
FROM tips GROUP BY 1, 2;
