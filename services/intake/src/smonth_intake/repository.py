"""intake's tables in SQL ($1 parameters; the pool's search_path is intake's schema)."""

import json
import time
from collections import Counter
from collections.abc import Awaitable, Sequence
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from smonth_intake.domain import RegisteredUnit, Snapshot, SummaryReceipt
from smonth_intake.models import (
    CaseSubmission,
    LiaisonDesignation,
    MaterialSubmission,
    TipOutcome,
    TipSubmission,
)
from smonth_shared.campaign import Unit
from smonth_shared.db import Connection
from smonth_shared.events import AttachedFile
from smonth_shared.outbox import Statement


async def lock(conn: Connection, name: str) -> None:
    """Serialises writers of one thing (a unit's progress, liaison...) until the commit."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", name)


# --- units registry ------------------------------------------------------------------------


async def unit(conn: Connection | asyncpg.Pool, campaign: str, code: str) -> RegisteredUnit | None:
    row = await conn.fetchrow(
        "SELECT code, name, kind FROM units WHERE campaign = $1 AND code = $2", campaign, code
    )
    return RegisteredUnit(**row) if row else None


class UnitCache:
    """Registered units, remembered for a while: a tip reads its province's registration, and the
    registry changes a few times a campaign. Only units found are kept, so a unit added by an
    import (here or on another replica) is seen at once; units are never deleted, and a change of
    kind reaches the other replicas within `seconds`."""

    def __init__(self, seconds: float = 60.0) -> None:
        self.seconds = seconds
        self._found: dict[tuple[str, str], tuple[float, RegisteredUnit]] = {}

    async def unit(
        self, conn: Connection | asyncpg.Pool, campaign: str, code: str
    ) -> RegisteredUnit | None:
        now = time.monotonic()
        kept = self._found.get((campaign, code))
        if kept is not None and now - kept[0] < self.seconds:
            return kept[1]
        found = await unit(conn, campaign, code)
        if found is not None:
            self._found[(campaign, code)] = (now, found)
        return found

    def forget(self) -> None:
        self._found.clear()


INSERT_NEW_UNITS = (
    "INSERT INTO units (campaign, code, name, kind, province, source)"
    " SELECT $1, u.code, u.name, u.kind, u.province, $6"
    " FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(code, name, kind, province)"
    " ON CONFLICT (campaign, code) DO NOTHING RETURNING code"
)
UPSERT_UNITS = INSERT_NEW_UNITS.replace(
    "DO NOTHING",
    "DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, province = EXCLUDED.province,"
    " source = EXCLUDED.source, updated_at = now()"
    " WHERE (units.name, units.kind, units.province)"
    " IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.kind, EXCLUDED.province)",
)


async def upsert_units(
    conn: Connection, campaign: str, units: Sequence[Unit], *, source: str, replace: bool
) -> int:
    """Adds the units (and with `replace`, overwrites their names and kinds); returns how many
    rows changed."""
    rows = await conn.fetch(
        UPSERT_UNITS if replace else INSERT_NEW_UNITS,
        campaign, [u.code for u in units], [u.name for u in units], [u.kind for u in units],
        [u.province for u in units], source,
    )  # fmt: skip
    return len(rows)


# --- progress ------------------------------------------------------------------------------


async def progress_neighbours(
    conn: Connection, campaign: str, unit: str, as_of: date
) -> tuple[Snapshot | None, Snapshot | None]:
    """The current revision of the nearest snapshot before `as_of`, and of the nearest after."""
    query = (
        "SELECT as_of, indicators FROM progress_snapshots"
        " WHERE campaign = $1 AND unit = $2 AND as_of {op} $3"
        " ORDER BY as_of {order}, revision DESC LIMIT 1"
    )
    before = await conn.fetchrow(query.format(op="<", order="DESC"), campaign, unit, as_of)
    after = await conn.fetchrow(query.format(op=">", order="ASC"), campaign, unit, as_of)
    return _snapshot(before), _snapshot(after)


def _snapshot(row: Any) -> Snapshot | None:
    return Snapshot(row["as_of"], json.loads(row["indicators"])) if row else None


async def insert_progress(
    conn: Connection, *, submission_id: UUID, campaign: str, unit: str, as_of: date,
    indicators: dict[str, int], submitted_by: str, received_at: datetime,
) -> int:  # fmt: skip
    """Stores the snapshot as the next revision of its date; returns the revision."""
    return await _int(conn.fetchval(
        "INSERT INTO progress_snapshots (submission_id, campaign, unit, as_of, revision,"
        " indicators, submitted_by, received_at)"
        " SELECT $1, $2, $3, $4, coalesce(max(revision), 0) + 1, $5::jsonb, $6, $7"
        " FROM progress_snapshots WHERE campaign = $2 AND unit = $3 AND as_of = $4"
        " RETURNING revision",
        submission_id, campaign, unit, as_of, json.dumps(indicators), submitted_by, received_at,
    ))  # fmt: skip


# --- liaisons ------------------------------------------------------------------------------

LIAISON_FIELDS = ("name", "position", "office_phone", "mobile", "email")


async def active_liaison(
    conn: Connection, campaign: str, unit: str
) -> tuple[UUID, LiaisonDesignation] | None:
    row = await conn.fetchrow(
        "SELECT liaison_id, name, position, office_phone, mobile, email FROM liaisons"
        " WHERE campaign = $1 AND unit = $2 AND replaced_at IS NULL",
        campaign, unit,
    )  # fmt: skip
    if row is None:
        return None
    return row["liaison_id"], LiaisonDesignation(**{f: row[f] for f in LIAISON_FIELDS})


async def designate_liaison(
    conn: Connection, *, liaison_id: UUID, campaign: str, unit: str,
    liaison: LiaisonDesignation, designated_by: str, designated_at: datetime,
) -> None:  # fmt: skip
    """The new liaison becomes the active one; the one before stays, marked replaced."""
    await conn.execute(
        "UPDATE liaisons SET replaced_at = $3"
        " WHERE campaign = $1 AND unit = $2 AND replaced_at IS NULL",
        campaign, unit, designated_at,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO liaisons (liaison_id, campaign, unit, name, position, office_phone, mobile,"
        " email, designated_by, designated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        liaison_id, campaign, unit, liaison.name, liaison.position, liaison.office_phone,
        liaison.mobile, liaison.email, designated_by, designated_at,
    )  # fmt: skip


# --- summary reports -----------------------------------------------------------------------


async def summary_state(
    conn: Connection, campaign: str, unit: str
) -> tuple[UUID, SummaryReceipt, AttachedFile | None] | None:
    row = await conn.fetchrow(
        "SELECT report_id, on_time, first_received_at, on_time_received_at, file"
        " FROM summary_reports WHERE campaign = $1 AND unit = $2",
        campaign, unit,
    )  # fmt: skip
    if row is None:
        return None
    receipt = SummaryReceipt(row["on_time"], row["first_received_at"], row["on_time_received_at"])
    file = AttachedFile.model_validate_json(row["file"]) if row["file"] else None
    return row["report_id"], receipt, file


async def summary_report(conn: Connection, campaign: str, unit: str) -> asyncpg.Record | None:
    """The unit's report as it stands, with how many times it was sent."""
    return await conn.fetchrow(
        "SELECT r.report_id, r.title, r.body, r.file, r.first_received_at, r.last_received_at,"
        " r.on_time, r.on_time_received_at, (SELECT count(*) FROM summary_submissions s"
        " WHERE s.report_id = r.report_id) AS times"
        " FROM summary_reports r WHERE r.campaign = $1 AND r.unit = $2",
        campaign, unit,
    )  # fmt: skip


async def save_summary(
    conn: Connection, *, report_id: UUID, submission_id: UUID, campaign: str, unit: str,
    title: str, body: str, file: AttachedFile | None, receipt: SummaryReceipt, on_time_now: bool,
    submitted_by: str, received_at: datetime,
) -> None:  # fmt: skip
    stored = file.model_dump_json() if file else None
    await conn.execute(
        "INSERT INTO summary_reports (report_id, campaign, unit, title, body, file,"
        " first_received_at, last_received_at, on_time, on_time_received_at)"
        " VALUES ($1, $2, $3, $4, $5, $6::jsonb, $7, $8, $9, $10)"
        " ON CONFLICT (campaign, unit) DO UPDATE SET title = EXCLUDED.title,"
        " body = EXCLUDED.body, file = EXCLUDED.file, last_received_at = EXCLUDED.last_received_at,"
        " on_time = EXCLUDED.on_time, on_time_received_at = EXCLUDED.on_time_received_at",
        report_id, campaign, unit, title, body, stored, receipt.first_received_at, received_at,
        receipt.on_time, receipt.on_time_received_at,
    )  # fmt: skip
    await conn.execute(
        "INSERT INTO summary_submissions (submission_id, report_id, title, body, file, on_time,"
        " submitted_by, received_at) VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8)",
        submission_id, report_id, title, body, stored, on_time_now, submitted_by, received_at,
    )  # fmt: skip


# --- materials -----------------------------------------------------------------------------


async def insert_material(
    conn: Connection, *, material_id: UUID, campaign: str, material: MaterialSubmission,
    file: AttachedFile | None, submitted_by: str, received_at: datetime,
) -> None:  # fmt: skip
    await conn.execute(
        "INSERT INTO materials (material_id, campaign, unit, kind, title, description, file,"
        " submitted_by, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9)",
        material_id, campaign, material.unit, material.kind, material.title,
        material.description, file.model_dump_json() if file else None, submitted_by,
        received_at,
    )  # fmt: skip


# --- tips ----------------------------------------------------------------------------------


def tip_row(
    *, tip_id: UUID, campaign: str, tip: TipSubmission, contact_encrypted: bytes | None,
    receipt_hash: bytes, received_at: datetime,
) -> tuple[Any, ...]:  # fmt: skip
    """A tip's columns, in the order of NEW_TIPS."""
    return (tip_id, campaign, tip.province, tip.industry, tip.category, tip.description, tip.city,
            tip.location, tip.enterprise, tip.occurred_on, contact_encrypted, receipt_hash,
            received_at)  # fmt: skip


NEW_TIPS = (
    "INSERT INTO tips (tip_id, campaign, province, industry, category, description, city,"
    " location, enterprise, occurred_on, contact_encrypted, receipt_hash, received_at)"
    " SELECT * FROM unnest($9::uuid[], $10::text[], $11::text[], $12::text[], $13::text[],"
    " $14::text[], $15::text[], $16::text[], $17::text[], $18::date[], $19::bytea[],"
    " $20::bytea[], $21::timestamptz[])"
)


def new_tips(rows: Sequence[tuple[Any, ...]]) -> Statement:
    """The tips' rows, written with their events (Outbox.add): any number of tips is one
    statement."""
    return Statement(NEW_TIPS, tuple(list(column) for column in zip(*rows, strict=True)))


async def tip_by_receipt(conn: Connection, receipt_hash: bytes) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT status, reply FROM tips WHERE receipt_hash = $1", receipt_hash
    )


TIP = "SELECT tip_id, province, industry, contact_encrypted FROM tips WHERE tip_id = $1"


async def tip(conn: Connection, tip_id: UUID, *, for_update: bool = False) -> asyncpg.Record | None:
    return await conn.fetchrow(TIP + " FOR UPDATE" if for_update else TIP, tip_id)


async def resolve_tip(
    conn: Connection, tip_id: UUID, outcome: TipOutcome, *, resolved_by: str, at: datetime
) -> None:
    await conn.execute(
        "UPDATE tips SET status = $2, rectified = $3, reward_paid = $4, reply = $5,"
        " resolved_at = $6, resolved_by = $7 WHERE tip_id = $1",
        tip_id, outcome.status, outcome.rectified, outcome.reward_paid, outcome.reply, at,
        resolved_by,
    )  # fmt: skip


async def contacts_after(conn: Connection, after: UUID | None, limit: int) -> list[asyncpg.Record]:
    """The next stored contacts in the order of their tips, from after the tip `after`."""
    return await conn.fetch(
        "SELECT tip_id, contact_encrypted FROM tips WHERE contact_encrypted IS NOT NULL"
        " AND ($1::uuid IS NULL OR tip_id > $1) ORDER BY tip_id LIMIT $2",
        after, limit,
    )  # fmt: skip


async def replace_contacts(conn: Connection, contacts: list[tuple[UUID, bytes]]) -> None:
    await conn.execute(
        "UPDATE tips SET contact_encrypted = c.token"
        " FROM unnest($1::uuid[], $2::bytea[]) AS c(tip_id, token) WHERE tips.tip_id = c.tip_id",
        [tip_id for tip_id, _ in contacts], [token for _, token in contacts],
    )  # fmt: skip


async def record_contact_read(conn: Connection, tip_id: UUID, read_by: str, at: datetime) -> None:
    await conn.execute(
        "INSERT INTO tip_contact_reads (tip_id, read_by, read_at) VALUES ($1, $2, $3)",
        tip_id, read_by, at,
    )  # fmt: skip


RateKey = tuple[str, datetime]  # a client's bucket and the start of its window


async def count_requests(conn: Connection | asyncpg.Pool, requests: list[RateKey]) -> list[int]:
    """Each request's number within its bucket's window, in the order given (several requests
    of one bucket count up from where it was); the first of a window sweeps old windows."""
    counts = Counter(requests)
    # Committed without waiting for the disk: a crash may forget the last counts, never a tip,
    # and the request is not held for a flush of its own (the tip's commit is flushed).
    rows = await conn.fetch(
        "WITH unflushed AS (SELECT set_config('synchronous_commit', 'off', true))"
        " INSERT INTO request_rate (bucket, window_start, hits)"
        " SELECT c.* FROM unflushed, unnest($1::text[], $2::timestamptz[], $3::int[]) AS c"
        " ON CONFLICT (bucket, window_start) DO UPDATE SET hits = request_rate.hits + EXCLUDED.hits"
        " RETURNING bucket, window_start, hits",
        [bucket for bucket, _ in counts], [window for _, window in counts], list(counts.values()),
    )  # fmt: skip
    reached = {(row["bucket"], row["window_start"]): row["hits"] for row in rows}
    numbered = {key: reached[key] - count for key, count in counts.items()}
    numbers = []
    for key in requests:
        numbered[key] += 1
        numbers.append(numbered[key])
    if 1 in numbers:
        await conn.execute(
            "DELETE FROM request_rate WHERE window_start < $1::timestamptz - interval '1 hour'",
            min(window for _, window in counts),
        )  # fmt: skip
    return numbers


# --- cases ---------------------------------------------------------------------------------


async def case_with_url(conn: Connection, province: str, url: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT case_id, title, media_outlet, published_on FROM cases"
        " WHERE province = $1 AND url = $2", province, url,
    )  # fmt: skip


async def insert_case(
    conn: Connection, *, case_id: UUID, campaign: str, case: CaseSubmission,
    reported_by: str, received_at: datetime,
) -> UUID | None:  # fmt: skip
    """The new id, or None when the province already reported this URL (a racing duplicate)."""
    return await conn.fetchval(
        "INSERT INTO cases (case_id, campaign, province, title, industry, enterprise, summary,"
        " media_outlet, published_on, url, reported_by, received_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        " ON CONFLICT (province, url) DO NOTHING RETURNING case_id",
        case_id, campaign, case.province, case.title, case.industry, case.enterprise,
        case.summary, case.media_outlet, case.published_on, str(case.url), reported_by,
        received_at,
    )  # fmt: skip


async def _int(value: Awaitable[Any]) -> int:
    return int(await value)
