"""notify's tables in SQL: the units' standing (written by its consumers) and the reminders."""

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID, uuid4

import asyncpg

from smonth_notify.domain import Contact, Reason, Reminder, Standing, Status
from smonth_shared.db import Connection
from smonth_shared.events import LiaisonDesignated, MonthAssessed, SummarySubmitted

Executor = Connection | asyncpg.Pool  # a pool runs a lone statement in a connection of its own


async def lock_standings(conn: Connection, campaign: str, *, exclusive: bool) -> None:
    """Planning reads the standings exclusively, the consumers change them under a shared lock:
    so a unit that complies while its reminders are being planned still gets them cancelled."""
    lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await conn.execute(f"SELECT {lock}(hashtext($1))", f"notify-standings:{campaign}")


async def record_liaison(conn: Connection, campaign: str, liaison: LiaisonDesignated) -> None:
    """Keeps the newest designation; an older one arriving late is ignored."""
    await conn.execute(
        "INSERT INTO liaisons (campaign, unit, name, email, mobile, designated_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (campaign, unit) DO UPDATE SET"
        " name = EXCLUDED.name, email = EXCLUDED.email, mobile = EXCLUDED.mobile,"
        " designated_at = EXCLUDED.designated_at"
        " WHERE liaisons.designated_at <= EXCLUDED.designated_at",
        campaign, liaison.unit, liaison.name, liaison.email, liaison.mobile, liaison.designated_at,
    )  # fmt: skip


async def record_summary(conn: Connection, campaign: str, summary: SummarySubmitted) -> None:
    await conn.execute(
        "INSERT INTO summaries (campaign, unit, first_received_at) VALUES ($1, $2, $3)"
        " ON CONFLICT (campaign, unit) DO NOTHING",
        campaign, summary.unit, summary.first_received_at,
    )  # fmt: skip


async def record_assessment(
    conn: Connection, campaign: str, assessment: MonthAssessed, assessed_at: datetime
) -> None:
    """Keeps the newest assessment of a province-month; an older one arriving late is ignored."""
    await conn.execute(
        "INSERT INTO exposure_months (campaign, province, month, status, assessed_at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT (campaign, province, month) DO UPDATE SET"
        " status = EXCLUDED.status, assessed_at = EXCLUDED.assessed_at"
        " WHERE exposure_months.assessed_at <= EXCLUDED.assessed_at",
        campaign, assessment.province, assessment.month, assessment.status, assessed_at,
    )  # fmt: skip


async def cancel_planned(
    conn: Connection, campaign: str, unit: str, reason: Reason, *, note: str,
    at: datetime, month: str | None = None,
) -> int:  # fmt: skip
    """A reminder already being sent goes out; the others of `reason` are cancelled."""
    result = await conn.execute(
        "UPDATE reminders SET status = 'cancelled', note = $5, finished_at = $6"
        " WHERE campaign = $1 AND unit = $2 AND reason = $3 AND status = 'planned'"
        " AND ($4::text IS NULL OR month = $4)",
        campaign, unit, reason, month, note, at,
    )  # fmt: skip
    return int(result.split()[-1])


async def standings(conn: Executor, campaign: str) -> dict[str, Standing]:
    liaisons = {r["unit"] for r in await conn.fetch(
        "SELECT unit FROM liaisons WHERE campaign = $1", campaign)}  # fmt: skip
    summaries = {r["unit"] for r in await conn.fetch(
        "SELECT unit FROM summaries WHERE campaign = $1", campaign)}  # fmt: skip
    met: defaultdict[str, set[str]] = defaultdict(set)
    for row in await conn.fetch(
        "SELECT province, month FROM exposure_months WHERE campaign = $1 AND status = 'met'",
        campaign,
    ):
        met[row["province"]].add(row["month"])
    return {
        unit: Standing(unit, unit in liaisons, unit in summaries, frozenset(met.get(unit, ())))
        for unit in liaisons | summaries | met.keys()
    }


async def add_reminders(
    conn: Connection, campaign: str, reminders: Sequence[Reminder], *, daily_cap: int,
    at: datetime,
) -> int:  # fmt: skip
    """Plans what is not planned yet (one statement); returns how many rows are new."""
    if not reminders:
        return 0
    capped = f"daily cap reached: at most {daily_cap} reminders a unit a day"
    columns = list(zip(*(
        (uuid4(), r.unit, r.reason, r.occasion.occasion, r.channel, r.occasion.month,
         r.occasion.day, r.occasion.send_at, "cancelled" if r.over_cap else "planned",
         capped if r.over_cap else None, at if r.over_cap else None)
        for r in reminders
    ), strict=True))  # fmt: skip
    rows = await conn.fetch(
        "INSERT INTO reminders (id, campaign, unit, reason, occasion, channel, month, due_on,"
        " send_at, status, note, finished_at, planned_at)"
        " SELECT id, $1, unit, reason, occasion, channel, month, due_on, send_at, status, note,"
        " finished_at, $13 FROM unnest($2::uuid[], $3::text[], $4::text[], $5::text[],"
        " $6::text[], $7::text[], $8::date[], $9::timestamptz[], $10::text[], $11::text[],"
        " $12::timestamptz[]) AS t(id, unit, reason, occasion, channel, month, due_on, send_at,"
        " status, note, finished_at)"
        " ON CONFLICT (campaign, unit, reason, occasion, channel) DO NOTHING RETURNING id",
        campaign, *map(list, columns), at,
    )  # fmt: skip
    return len(rows)


async def release_interrupted(conn: Executor, campaign: str) -> int:
    """Reminders left 'sending' by a stopped sender go back to 'planned', to be sent again."""
    result = await conn.execute(
        "UPDATE reminders SET status = 'planned' WHERE campaign = $1 AND status = 'sending'",
        campaign,
    )
    return int(result.split()[-1])


async def fail_undelivered(
    conn: Connection, campaign: str, today: date, at: datetime
) -> list[asyncpg.Record]:
    """Reminders of an earlier day that the server kept refusing: failed, with their last error."""
    return await conn.fetch(
        "UPDATE reminders SET status = 'failed', finished_at = $3,"
        " note = 'not delivered on its day (' || due_on || '): ' || coalesce(note, '')"
        " WHERE campaign = $1 AND status = 'planned' AND due_on < $2 AND attempts > 0"
        " RETURNING id, campaign, unit, reason, occasion, channel, recipient, attempts, note",
        campaign, today, at,
    )  # fmt: skip


async def expire(conn: Executor, campaign: str, today: date, at: datetime) -> int:
    """A reminder not sent on its own day would arrive out of place: it is cancelled."""
    result = await conn.execute(
        "UPDATE reminders SET status = 'cancelled', finished_at = $3,"
        " note = 'not sent on its day (' || due_on || '); expired'"
        " WHERE campaign = $1 AND status = 'planned' AND due_on < $2",
        campaign, today, at,
    )  # fmt: skip
    return int(result.split()[-1])


async def due(conn: Executor, campaign: str, today: date, now: datetime) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT id FROM reminders WHERE campaign = $1 AND status = 'planned' AND due_on = $2"
        " AND send_at <= $3 AND (retry_at IS NULL OR retry_at <= $3)"
        " ORDER BY send_at, unit, reason, channel",
        campaign, today, now,
    )  # fmt: skip
    return [row["id"] for row in rows]


async def next_retry(conn: Executor, campaign: str) -> datetime | None:
    """When the earliest postponed reminder is to be tried again, if any is."""
    return await conn.fetchval(
        "SELECT min(retry_at) FROM reminders WHERE campaign = $1 AND status = 'planned'",
        campaign,
    )


async def postpone(
    conn: Connection, reminder_id: UUID, *, retry_at: datetime, recipient: str, note: str
) -> None:
    """Back to 'planned' after a round of attempts the server did not take, until `retry_at`."""
    await conn.execute(
        "UPDATE reminders SET status = 'planned', retry_at = $2, recipient = $3, note = $4"
        " WHERE id = $1 AND status = 'sending'",
        reminder_id, retry_at, recipient, note,
    )  # fmt: skip


async def claim(conn: Connection, reminder_id: UUID) -> asyncpg.Record | None:
    """Marks a planned reminder 'sending' for its first attempt; None if it is not planned."""
    return await conn.fetchrow(
        "UPDATE reminders SET status = 'sending', attempts = attempts + 1"
        " WHERE id = $1 AND status = 'planned' RETURNING *",
        reminder_id,
    )


async def count_attempt(conn: Executor, reminder_id: UUID) -> int | None:
    """One more attempt at a reminder this sender holds in 'sending'; None if it lost it."""
    return await conn.fetchval(
        "UPDATE reminders SET attempts = attempts + 1 WHERE id = $1 AND status = 'sending'"
        " RETURNING attempts",
        reminder_id,
    )


async def finish(
    conn: Connection, reminder_id: UUID, status: Status, *, at: datetime,
    recipient: str | None = None, note: str | None = None,
) -> None:  # fmt: skip
    await conn.execute(
        "UPDATE reminders SET status = $2, recipient = $3, note = $4, finished_at = $5"
        " WHERE id = $1",
        reminder_id, status, recipient, note, at,
    )  # fmt: skip


async def liaison(conn: Connection, campaign: str, unit: str) -> Contact | None:
    row = await conn.fetchrow(
        "SELECT name, email, mobile FROM liaisons WHERE campaign = $1 AND unit = $2",
        campaign, unit,
    )  # fmt: skip
    return Contact(row["name"], row["email"], row["mobile"]) if row else None


async def reminders(
    conn: Executor, campaign: str, *, unit: str | None = None, status: Status | None = None
) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT * FROM reminders WHERE campaign = $1 AND ($2::text IS NULL OR unit = $2)"
        " AND ($3::text IS NULL OR status = $3) ORDER BY send_at, unit, reason, occasion, channel",
        campaign, unit, status,
    )  # fmt: skip


async def count_by_status(conn: Executor) -> dict[str, int]:
    rows = await conn.fetch("SELECT status, count(*) AS n FROM reminders GROUP BY status")
    return {row["status"]: row["n"] for row in rows}
