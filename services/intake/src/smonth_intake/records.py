"""What intake holds of one unit: the reads behind the unit's tasks and its history (hand-written
`$1` SQL, like repository.py, which holds the writes)."""

import json
from datetime import date

import asyncpg

from smonth_intake.domain import Snapshot
from smonth_shared.db import Connection

HISTORY_LIMIT = 200


async def latest_snapshot(conn: Connection, campaign: str, unit: str) -> Snapshot | None:
    """The current revision of the unit's latest snapshot: what the next one may not fall below."""
    row = await conn.fetchrow(
        "SELECT as_of, indicators FROM progress_snapshots WHERE campaign = $1 AND unit = $2"
        " ORDER BY as_of DESC, revision DESC LIMIT 1",
        campaign, unit,
    )  # fmt: skip
    return Snapshot(row["as_of"], json.loads(row["indicators"])) if row else None


async def counts(
    conn: Connection, campaign: str, unit: str, month: tuple[date, date]
) -> asyncpg.Record:
    """The unit's materials, and its cases published within `month` (first and last day)."""
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM materials WHERE campaign = $1 AND unit = $2) AS materials,"
        " (SELECT count(*) FROM cases WHERE campaign = $1 AND province = $2"
        "  AND published_on BETWEEN $3 AND $4) AS cases_this_month",
        campaign, unit, *month,
    )  # fmt: skip
    assert row is not None
    return row


async def history(conn: Connection, campaign: str, unit: str) -> list[asyncpg.Record]:
    """Every submission of the unit, newest first: kind, id, time, a line naming it, its status."""
    return await conn.fetch(
        "SELECT * FROM ("
        " SELECT 'progress' AS kind, submission_id AS id, received_at,"
        "  as_of::text AS about, 'r' || revision AS status FROM progress_snapshots"
        "  WHERE campaign = $1 AND unit = $2"
        " UNION ALL SELECT 'liaison', liaison_id, designated_at, name,"
        "  CASE WHEN replaced_at IS NULL THEN 'current' ELSE 'replaced' END FROM liaisons"
        "  WHERE campaign = $1 AND unit = $2"
        " UNION ALL SELECT 'summary', s.submission_id, s.received_at, s.title,"
        "  CASE WHEN s.on_time THEN 'on_time' ELSE 'late' END"
        "  FROM summary_submissions s JOIN summary_reports r USING (report_id)"
        "  WHERE r.campaign = $1 AND r.unit = $2"
        " UNION ALL SELECT 'material', material_id, received_at, title, kind FROM materials"
        "  WHERE campaign = $1 AND unit = $2"
        " UNION ALL SELECT 'case', case_id, received_at, title, 'received' FROM cases"
        "  WHERE campaign = $1 AND province = $2"
        ") AS submissions ORDER BY received_at DESC, kind LIMIT $3",
        campaign, unit, HISTORY_LIMIT,
    )  # fmt: skip
