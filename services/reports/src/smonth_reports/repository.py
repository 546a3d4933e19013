"""reports' read model in SQL: the writes of its consumers and the aggregates of the summary."""

from typing import Any

import asyncpg

from smonth_shared.db import Connection
from smonth_shared.events import MonthAssessed, TipReceived, TipResolved


async def add_tip(conn: Connection, campaign: str, tip: TipReceived) -> None:
    await conn.execute(
        "INSERT INTO tips (tip_id, campaign, province, industry, category, received_at)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (tip_id) DO NOTHING",
        tip.tip_id, campaign, tip.province, tip.industry, tip.category, tip.received_at,
    )  # fmt: skip


async def resolve_tip(conn: Connection, outcome: TipResolved) -> None:
    await conn.execute(
        "UPDATE tips SET status = $2, rectified = $3, reward_paid = $4 WHERE tip_id = $1",
        outcome.tip_id, outcome.status, outcome.rectified, outcome.reward_paid,
    )  # fmt: skip


async def record_assessment(
    conn: Connection, campaign: str, assessment: MonthAssessed, assessed_at: Any
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


async def tip_counts(pool: asyncpg.Pool, campaign: str) -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in await pool.fetch(
            "SELECT province, industry, status, count(*) AS tips FROM tips WHERE campaign = $1"
            " GROUP BY province, industry, status",
            campaign,
        )
    ]


async def compliance_rows(pool: asyncpg.Pool, campaign: str) -> list[dict[str, Any]]:
    return [
        dict(row)
        for row in await pool.fetch(
            "SELECT province, month, cases_counted, status FROM compliance WHERE campaign = $1",
            campaign,
        )
    ]
