"""reports' read model in SQL: the writes of its consumers, the reads of the summary, and the
published summaries with their artifacts."""

import contextlib
import json
from collections.abc import AsyncIterator, Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, TypeVar
from uuid import UUID

from smonth_reports.domain import ReadModel
from smonth_shared.db import Connection
from smonth_shared.events import (
    CaseRejected,
    CaseReported,
    LiaisonDesignated,
    MaterialSubmitted,
    MonthAssessed,
    ProgressReported,
    ReminderOutcome,
    SummarySubmitted,
    TipReceived,
    TipResolved,
)

T = TypeVar("T")

# The tables a replay rebuilds: everything the consumers write, nothing reports owns itself.
READ_MODEL_TABLES = (
    "progress", "liaisons", "summary_reports", "materials", "cases", "tips", "compliance",
    "reminders",
)  # and the tallies of the tips, which a trigger empties with them  # fmt: skip


async def keep_newest_progress(
    conn: Connection, campaign: str, snapshot: ProgressReported, reported_at: datetime
) -> None:
    """A snapshot replaces the unit's only if it is newer: by as_of, then by revision."""
    await conn.execute(
        "INSERT INTO progress (campaign, unit, as_of, revision, submission_id, indicators,"
        " reported_at) VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7)"
        " ON CONFLICT (campaign, unit) DO UPDATE SET as_of = EXCLUDED.as_of,"
        " revision = EXCLUDED.revision, submission_id = EXCLUDED.submission_id,"
        " indicators = EXCLUDED.indicators, reported_at = EXCLUDED.reported_at"
        " WHERE (progress.as_of, progress.revision) < (EXCLUDED.as_of, EXCLUDED.revision)",
        campaign, snapshot.unit, snapshot.as_of, snapshot.revision, snapshot.submission_id,
        json.dumps(snapshot.indicators), reported_at,
    )  # fmt: skip


async def designate_liaison(conn: Connection, campaign: str, liaison: LiaisonDesignated) -> None:
    await conn.execute(
        "INSERT INTO liaisons (campaign, unit, name, position, office_phone, mobile, email,"
        " designated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (campaign, unit) DO UPDATE SET name = EXCLUDED.name,"
        " position = EXCLUDED.position, office_phone = EXCLUDED.office_phone,"
        " mobile = EXCLUDED.mobile, email = EXCLUDED.email, designated_at = EXCLUDED.designated_at"
        " WHERE liaisons.designated_at <= EXCLUDED.designated_at",
        campaign, liaison.unit, liaison.name, liaison.position, liaison.office_phone,
        liaison.mobile, liaison.email, liaison.designated_at,
    )  # fmt: skip


async def receive_summary(conn: Connection, campaign: str, report: SummarySubmitted) -> None:
    """One row per unit: an on-time receipt is kept once earned; the title is the latest one's."""
    await conn.execute(
        "INSERT INTO summary_reports (campaign, unit, report_id, title, first_received_at,"
        " last_received_at, on_time, submissions) VALUES ($1, $2, $3, $4, $5, $6, $7, 1)"
        " ON CONFLICT (campaign, unit) DO UPDATE SET"
        " report_id = CASE WHEN EXCLUDED.last_received_at >= summary_reports.last_received_at"
        "   THEN EXCLUDED.report_id ELSE summary_reports.report_id END,"
        " title = CASE WHEN EXCLUDED.last_received_at >= summary_reports.last_received_at"
        "   THEN EXCLUDED.title ELSE summary_reports.title END,"
        " first_received_at = LEAST(summary_reports.first_received_at, EXCLUDED.first_received_at),"
        " last_received_at = GREATEST(summary_reports.last_received_at, EXCLUDED.last_received_at),"
        " on_time = summary_reports.on_time OR EXCLUDED.on_time,"
        " submissions = summary_reports.submissions + 1",
        campaign, report.unit, report.report_id, report.title, report.first_received_at,
        report.received_at, report.on_time,
    )  # fmt: skip


async def add_material(
    conn: Connection, campaign: str, material: MaterialSubmitted, submitted_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO materials (material_id, campaign, unit, kind, title, has_file, submitted_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (material_id) DO NOTHING",
        material.material_id, campaign, material.unit, material.kind, material.title,
        material.file is not None, submitted_at,
    )  # fmt: skip


async def add_case(
    conn: Connection, campaign: str, case: CaseReported, reported_at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO cases (case_id, campaign, province, title, industry, enterprise,"
        " media_outlet, published_on, url, reported_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (case_id) DO NOTHING",
        case.case_id, campaign, case.province, case.title, case.industry, case.enterprise,
        case.media_outlet, case.published_on, case.url, reported_at,
    )  # fmt: skip


async def reject_case(conn: Connection, rejection: CaseRejected) -> None:
    # Both events are keyed by province on one topic, so the report is always here first.
    await conn.execute(
        "UPDATE cases SET rejected = true, reason = $2 WHERE case_id = $1",
        rejection.case_id, rejection.reason,
    )  # fmt: skip


async def add_tip(conn: Connection, campaign: str, tip: TipReceived) -> None:
    await conn.execute(
        "INSERT INTO tips (tip_id, campaign, province, industry, category, received_at, named)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (tip_id) DO NOTHING",
        tip.tip_id, campaign, tip.province, tip.industry, tip.category, tip.received_at,
        tip.named,
    )  # fmt: skip


async def resolve_tip(conn: Connection, outcome: TipResolved) -> None:
    await conn.execute(
        "UPDATE tips SET status = $2, rectified = $3, reward_paid = $4, resolved_at = $5"
        " WHERE tip_id = $1",
        outcome.tip_id, outcome.status, outcome.rectified, outcome.reward_paid,
        outcome.resolved_at,
    )  # fmt: skip


async def record_assessment(
    conn: Connection, campaign: str, assessment: MonthAssessed, assessed_at: datetime
) -> None:
    """Keeps the newest assessment of a province-month; an older one arriving late is ignored."""
    await conn.execute(
        "INSERT INTO compliance (campaign, province, month, cases_counted, quota, status, closed,"
        " assessed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        " ON CONFLICT (campaign, province, month) DO UPDATE SET"
        " cases_counted = EXCLUDED.cases_counted, quota = EXCLUDED.quota,"
        " status = EXCLUDED.status, closed = EXCLUDED.closed, assessed_at = EXCLUDED.assessed_at"
        " WHERE compliance.assessed_at <= EXCLUDED.assessed_at",
        campaign, assessment.province, assessment.month, assessment.cases_counted,
        assessment.quota, assessment.status, assessment.closed, assessed_at,
    )  # fmt: skip


async def record_reminder(
    conn: Connection, event_id: UUID, campaign: str, outcome: str, reminder: ReminderOutcome,
    at: datetime,
) -> None:  # fmt: skip
    await conn.execute(
        "INSERT INTO reminders (event_id, campaign, reminder_id, unit, reason, occasion, channel,"
        " recipient, attempts, outcome, error, at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT (event_id) DO NOTHING",
        event_id, campaign, reminder.reminder_id, reminder.unit, reminder.reason,
        reminder.occasion, reminder.channel, reminder.recipient, reminder.attempts, outcome,
        reminder.error, at,
    )  # fmt: skip


# --- the same writes for a batch of events, one statement each (see handlers.BATCH_EFFECTS) ---
# Where several events of a batch touch one row, the one that would have won applied one by one
# is kept first: one statement cannot change a row twice.


def _newest(rows: Iterable[T], key: Callable[[T], Hashable], rank: Callable[[T], Any],
            *, ties_to_the_later: bool) -> list[T]:  # fmt: skip
    kept: dict[Hashable, T] = {}
    for row in rows:
        old = kept.get(key(row))
        if old is None or rank(old) < rank(row) or (ties_to_the_later and rank(old) == rank(row)):
            kept[key(row)] = row
    return list(kept.values())


async def keep_newest_progress_of(
    conn: Connection, snapshots: Sequence[tuple[str, ProgressReported, datetime]]
) -> None:
    """keep_newest_progress for many snapshots: the first of the newest of each unit."""
    newest = _newest(snapshots, lambda s: (s[0], s[1].unit),
                     lambda s: (s[1].as_of, s[1].revision), ties_to_the_later=False)  # fmt: skip
    await conn.execute(
        "INSERT INTO progress (campaign, unit, as_of, revision, submission_id, indicators,"
        " reported_at) SELECT * FROM unnest($1::text[], $2::text[], $3::date[], $4::int[],"
        " $5::uuid[], $6::jsonb[], $7::timestamptz[])"
        " ON CONFLICT (campaign, unit) DO UPDATE SET as_of = EXCLUDED.as_of,"
        " revision = EXCLUDED.revision, submission_id = EXCLUDED.submission_id,"
        " indicators = EXCLUDED.indicators, reported_at = EXCLUDED.reported_at"
        " WHERE (progress.as_of, progress.revision) < (EXCLUDED.as_of, EXCLUDED.revision)",
        *_columns([(c, s.unit, s.as_of, s.revision, s.submission_id, json.dumps(s.indicators), at)
                   for c, s, at in newest], 7),
    )  # fmt: skip


async def designate_liaisons(
    conn: Connection, liaisons: Sequence[tuple[str, LiaisonDesignated]]
) -> None:
    """designate_liaison for many: the last of the latest designated of each unit."""
    newest = _newest(liaisons, lambda x: (x[0], x[1].unit), lambda x: x[1].designated_at,
                     ties_to_the_later=True)  # fmt: skip
    await conn.execute(
        "INSERT INTO liaisons (campaign, unit, name, position, office_phone, mobile, email,"
        " designated_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],"
        " $5::text[], $6::text[], $7::text[], $8::timestamptz[])"
        " ON CONFLICT (campaign, unit) DO UPDATE SET name = EXCLUDED.name,"
        " position = EXCLUDED.position, office_phone = EXCLUDED.office_phone,"
        " mobile = EXCLUDED.mobile, email = EXCLUDED.email, designated_at = EXCLUDED.designated_at"
        " WHERE liaisons.designated_at <= EXCLUDED.designated_at",
        *_columns([(c, x.unit, x.name, x.position, x.office_phone, x.mobile, x.email,
                    x.designated_at) for c, x in newest], 8),
    )  # fmt: skip


async def add_materials(
    conn: Connection, materials: Sequence[tuple[str, MaterialSubmitted, datetime]]
) -> None:
    await conn.execute(
        "INSERT INTO materials (material_id, campaign, unit, kind, title, has_file, submitted_at)"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
        " $6::bool[], $7::timestamptz[]) ON CONFLICT (material_id) DO NOTHING",
        *_columns([(m.material_id, c, m.unit, m.kind, m.title, m.file is not None, at)
                   for c, m, at in materials], 7),
    )  # fmt: skip


async def add_cases(conn: Connection, cases: Sequence[tuple[str, CaseReported, datetime]]) -> None:
    await conn.execute(
        "INSERT INTO cases (case_id, campaign, province, title, industry, enterprise,"
        " media_outlet, published_on, url, reported_at) SELECT * FROM unnest($1::uuid[],"
        " $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::date[],"
        " $9::text[], $10::timestamptz[]) ON CONFLICT (case_id) DO NOTHING",
        *_columns([(x.case_id, c, x.province, x.title, x.industry, x.enterprise, x.media_outlet,
                    x.published_on, x.url, at) for c, x, at in cases], 10),
    )  # fmt: skip


async def add_tips(conn: Connection, tips: Sequence[tuple[str, TipReceived]]) -> None:
    await conn.execute(
        "INSERT INTO tips (tip_id, campaign, province, industry, category, received_at, named)"
        " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
        " $6::timestamptz[], $7::bool[]) ON CONFLICT (tip_id) DO NOTHING",
        *_columns([(t.tip_id, c, t.province, t.industry, t.category, t.received_at, t.named)
                   for c, t in tips], 7),
    )  # fmt: skip


async def resolve_tips(conn: Connection, outcomes: Sequence[TipResolved]) -> None:
    """resolve_tip for many: the last outcome of each tip."""
    last = list({outcome.tip_id: outcome for outcome in outcomes}.values())
    await conn.execute(
        "UPDATE tips SET status = o.status, rectified = o.rectified,"
        " reward_paid = o.reward_paid, resolved_at = o.resolved_at"
        " FROM unnest($1::uuid[], $2::text[], $3::bool[], $4::bool[], $5::timestamptz[])"
        " AS o(tip_id, status, rectified, reward_paid, resolved_at)"
        # The ANY keeps the plan on the primary key: a join alone may scan every tip.
        " WHERE tips.tip_id = o.tip_id AND tips.tip_id = ANY($1::uuid[])",
        *_columns([(o.tip_id, o.status, o.rectified, o.reward_paid, o.resolved_at)
                   for o in last], 5),
    )  # fmt: skip


async def record_assessments(
    conn: Connection, assessments: Sequence[tuple[str, MonthAssessed, datetime]]
) -> None:
    """record_assessment for many: the last of the newest of each province-month."""
    newest = _newest(assessments, lambda a: (a[0], a[1].province, a[1].month), lambda a: a[2],
                     ties_to_the_later=True)  # fmt: skip
    await conn.execute(
        "INSERT INTO compliance (campaign, province, month, cases_counted, quota, status, closed,"
        " assessed_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::int[],"
        " $5::int[], $6::text[], $7::bool[], $8::timestamptz[])"
        " ON CONFLICT (campaign, province, month) DO UPDATE SET"
        " cases_counted = EXCLUDED.cases_counted, quota = EXCLUDED.quota,"
        " status = EXCLUDED.status, closed = EXCLUDED.closed, assessed_at = EXCLUDED.assessed_at"
        " WHERE compliance.assessed_at <= EXCLUDED.assessed_at",
        *_columns([(c, a.province, a.month, a.cases_counted, a.quota, a.status, a.closed, at)
                   for c, a, at in newest], 8),
    )  # fmt: skip


async def record_reminders(
    conn: Connection,
    reminders: Sequence[tuple[UUID, str, str, ReminderOutcome, datetime]],
) -> None:
    await conn.execute(
        "INSERT INTO reminders (event_id, campaign, reminder_id, unit, reason, occasion, channel,"
        " recipient, attempts, outcome, error, at) SELECT * FROM unnest($1::uuid[], $2::text[],"
        " $3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::int[],"
        " $10::text[], $11::text[], $12::timestamptz[]) ON CONFLICT (event_id) DO NOTHING",
        *_columns([(event_id, c, r.reminder_id, r.unit, r.reason, r.occasion, r.channel,
                    r.recipient, r.attempts, outcome, r.error, at)
                   for event_id, c, outcome, r, at in reminders], 12),
    )  # fmt: skip


@contextlib.asynccontextmanager
async def tips_tallied_at_the_end(conn: Connection) -> AsyncIterator[None]:
    """Inside the transaction of a replay, which writes every tip again: the tallies counted
    once when it is done, instead of by the triggers upserting the same tally rows again at
    each of its statements. Should the replay fail, its rollback restores the triggers too."""
    await conn.execute("ALTER TABLE tips DISABLE TRIGGER USER")
    yield
    await conn.execute("TRUNCATE tip_tally, tip_arrivals")
    await conn.execute(
        "INSERT INTO tip_tally (campaign, province, industry, status, tips, rectified,"
        " reward_paid, named) SELECT campaign, province, industry, status, count(*),"
        " count(*) FILTER (WHERE rectified), count(*) FILTER (WHERE reward_paid),"
        " count(*) FILTER (WHERE named) FROM tips GROUP BY 1, 2, 3, 4"
    )
    await conn.execute(
        "INSERT INTO tip_arrivals (campaign, quarter, tips) SELECT campaign,"
        " date_bin('15 minutes', received_at, timestamptz '2000-01-01 00:00Z'), count(*)"
        " FROM tips GROUP BY 1, 2"
    )
    await conn.execute("ALTER TABLE tips ENABLE TRIGGER USER")


def _columns(rows: Sequence[tuple[Any, ...]], width: int) -> list[list[Any]]:
    """Rows as the column arrays that unnest() takes."""
    return [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * width


@dataclass(frozen=True)
class Part:
    """A field of ReadModel as READ_MODEL gives it: an array of records with these columns."""

    field: str
    columns: tuple[str, ...]
    keyed: bool = False  # rows by unit, rather than a list
    json_columns: tuple[str, ...] = ()

    def rows(self, records: Sequence[tuple[Any, ...]]) -> Any:
        rows = [dict(zip(self.columns, record, strict=True)) for record in records]
        for row in rows:
            for column in self.json_columns:
                row[column] = json.loads(row[column])
        return {row["unit"]: row for row in rows} if self.keyed else rows


PARTS = (
    Part("progress", ("unit", "as_of", "indicators"), keyed=True, json_columns=("indicators",)),
    Part("liaisons", ("unit", "name", "position", "office_phone", "mobile", "email",
                      "designated_at"), keyed=True),
    Part("summaries", ("unit", "title", "first_received_at", "last_received_at", "on_time",
                       "submissions"), keyed=True),
    Part("materials", ("unit", "kind", "count")),
    Part("cases", ("province", "rejected", "count")),
    Part("compliance", ("province", "month", "cases_counted", "status", "closed")),
    Part("tips", ("province", "industry", "status", "count", "rectified", "reward_paid",
                  "named")),
    Part("tips_by_day", ("day", "count")),
    Part("reminders", ("at", "unit", "reason", "occasion", "channel", "recipient", "attempts",
                       "outcome", "error")),
)  # fmt: skip

# One statement, so one snapshot: the version, and each part whose table was written after
# version $3 (every part when the version went back: a database made again); a part not asked
# for is NULL and not read at all. Rows come as arrays of records, which asyncpg gives as tuples.
# $1 the campaign, $2 its time zone.
READ_MODEL = """
SELECT version,
  CASE WHEN version < $3 OR coalesce((written->>'progress')::bigint, 0) > $3 THEN
    (SELECT coalesce(array_agg((unit, as_of, indicators)), '{}') FROM progress
     WHERE campaign = $1) END AS progress,
  CASE WHEN version < $3 OR coalesce((written->>'liaisons')::bigint, 0) > $3 THEN
    (SELECT coalesce(array_agg((unit, name, position, office_phone, mobile, email,
                                designated_at)), '{}')
     FROM liaisons WHERE campaign = $1) END AS liaisons,
  CASE WHEN version < $3 OR coalesce((written->>'summary_reports')::bigint, 0) > $3 THEN
    (SELECT coalesce(array_agg((unit, title, first_received_at, last_received_at, on_time,
                                submissions)), '{}')
     FROM summary_reports WHERE campaign = $1) END AS summaries,
  CASE WHEN version < $3 OR coalesce((written->>'materials')::bigint, 0) > $3 THEN
    (SELECT coalesce(array_agg(m), '{}') FROM (SELECT unit, kind, count(*)::int FROM materials
     WHERE campaign = $1 GROUP BY unit, kind) AS m) END AS materials,
  CASE WHEN version < $3 OR coalesce((written->>'cases')::bigint, 0) > $3 THEN
    (SELECT coalesce(array_agg(c), '{}') FROM (SELECT province, rejected, count(*)::int
     FROM cases WHERE campaign = $1 GROUP BY province, rejected) AS c) END AS cases,
  CASE WHEN version < $3 OR coalesce((written->>'compliance')::bigint, 0) > $3 THEN
    (SELECT coalesce(array_agg((province, month, cases_counted, status, closed)), '{}')
     FROM compliance WHERE campaign = $1) END AS compliance,
  -- The tallies that triggers keep beside the tips (migration 003), not the tips.
  CASE WHEN version < $3 OR coalesce((written->>'tip_tally')::bigint, 0) > $3 THEN
    (SELECT coalesce(array_agg((province, industry, status, tips, rectified, reward_paid,
                                named)), '{}')
     FROM tip_tally WHERE campaign = $1 AND tips > 0) END AS tips,
  CASE WHEN version < $3 OR coalesce((written->>'tip_arrivals')::bigint, 0) > $3 THEN
    (SELECT coalesce(array_agg(d ORDER BY d.day), '{}')
     FROM (SELECT (quarter AT TIME ZONE $2)::date AS day, sum(tips)::int FROM tip_arrivals
           WHERE campaign = $1 GROUP BY day HAVING sum(tips) > 0) AS d) END AS tips_by_day,
  CASE WHEN version < $3 OR coalesce((written->>'reminders')::bigint, 0) > $3 THEN
    (SELECT coalesce(array_agg((at, unit, reason, occasion, channel, recipient, attempts,
                                outcome, error) ORDER BY at, unit, channel, event_id), '{}')
     FROM reminders WHERE campaign = $1) END AS reminders
FROM read_model_version
"""


async def read_model(
    conn: Connection, campaign: str, time_zone: str, since: ReadModel | None = None
) -> ReadModel:
    """Everything the summary is built from, as of one snapshot. With `since` (the model last
    read of the same campaign), only the parts written after it are read again, and `since`
    itself is returned when nothing was written."""
    found = await conn.fetchrow(
        READ_MODEL, campaign, time_zone, since.version if since is not None else -1
    )
    if found is None:
        raise RuntimeError("migration 004 makes the version's one row, and nothing deletes it")
    if since is not None and found["version"] == since.version:
        return since
    changed = {part.field: part.rows(found[part.field]) for part in PARTS
               if found[part.field] is not None}  # fmt: skip
    return replace(since or ReadModel(), version=found["version"], **changed)


async def start_schedule(conn: Connection, campaign: str, now: datetime) -> datetime:
    """The instant this deployment began publishing the campaign (set once, on first start)."""
    since = await conn.fetchval(
        "INSERT INTO publication_schedule (campaign, since) VALUES ($1, $2)"
        " ON CONFLICT (campaign) DO UPDATE SET since = publication_schedule.since RETURNING since",
        campaign, now,
    )  # fmt: skip
    if since is None:
        raise RuntimeError("the upsert returns the row")
    return since


async def published_moments(conn: Connection, campaign: str) -> set[datetime]:
    rows = await conn.fetch(
        "SELECT moment FROM publications WHERE campaign = $1 AND moment IS NOT NULL", campaign
    )
    return {row["moment"] for row in rows}


async def claim_publication(
    conn: Connection, publication_id: UUID, campaign: str, trigger: str,
    moment: datetime | None, as_of: datetime,
) -> bool:  # fmt: skip
    """False when the moment was published already (by this replica or another)."""
    claimed = await conn.fetchval(
        "INSERT INTO publications (publication_id, campaign, trigger, moment, as_of)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (campaign, moment) DO NOTHING RETURNING true",
        publication_id, campaign, trigger, moment, as_of,
    )  # fmt: skip
    return bool(claimed)


async def add_artifact(
    conn: Connection, publication_id: UUID, name: str, format: str, media_type: str,
    sha256: str, content: bytes,
) -> None:  # fmt: skip
    await conn.execute(
        "INSERT INTO artifacts (publication_id, name, format, media_type, sha256, content)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        publication_id, name, format, media_type, sha256, content,
    )  # fmt: skip


async def artifact(conn: Connection, publication_id: UUID, name: str) -> dict[str, Any] | None:
    row = await conn.fetchrow(
        "SELECT media_type, sha256, content FROM artifacts"
        " WHERE publication_id = $1 AND name = $2",
        publication_id, name,
    )  # fmt: skip
    return dict(row) if row else None


async def publications(conn: Connection, campaign: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT p.publication_id, p.trigger, p.moment, p.as_of,"
        " array_agg(a.name ORDER BY a.name) AS artifacts"
        " FROM publications p JOIN artifacts a USING (publication_id)"
        " WHERE p.campaign = $1 GROUP BY p.publication_id ORDER BY p.as_of",
        campaign,
    )  # fmt: skip
    return [dict(row) for row in rows]
