"""exposure's state in SQL: the cases and the tally of each province-month."""

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from smonth_exposure.domain import Rejection, Verdict
from smonth_shared.db import Connection
from smonth_shared.events import CaseReported


async def add_case(
    conn: Connection, campaign: str, case: CaseReported, month: str, verdict: Verdict,
    reported_at: datetime,
) -> bool:  # fmt: skip
    """False when the case is already stored (announced again under another event id)."""
    inserted = await conn.fetchval(
        "INSERT INTO cases (case_id, campaign, province, month, title, industry, enterprise,"
        " summary, media_outlet, published_on, url, reported_at, counted, not_counted_reason,"
        " not_counted_reason_zh)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        " ON CONFLICT (case_id) DO NOTHING RETURNING true",
        case.case_id, campaign, case.province, month, case.title, case.industry, case.enterprise,
        case.summary, case.media_outlet, case.published_on, case.url, reported_at,
        verdict.counted, verdict.reason, verdict.reason_zh,
    )  # fmt: skip
    return bool(inserted)


async def case(conn: Connection, case_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1", case_id)


def rejection_of(case: asyncpg.Record) -> Rejection | None:
    if case["rejected_at"] is None:
        return None
    return Rejection(case["rejection_reason"], case["rejected_by"], case["rejected_at"])


async def case_for_update(conn: Connection, case_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM cases WHERE case_id = $1 FOR UPDATE", case_id)


async def mark_rejected(conn: Connection, case_id: UUID, rejection: Rejection) -> None:
    await conn.execute(
        "UPDATE cases SET rejected_at = $2, rejected_by = $3, rejection_reason = $4"
        " WHERE case_id = $1",
        case_id, rejection.rejected_at, rejection.rejected_by, rejection.reason,
    )  # fmt: skip


async def cases(
    pool: asyncpg.Pool, campaign: str, *, province: str | None, month: str | None, limit: int,
    offset: int,
) -> list[asyncpg.Record]:  # fmt: skip
    return await pool.fetch(
        "SELECT * FROM cases WHERE campaign = $1"
        " AND ($2::text IS NULL OR province = $2) AND ($3::text IS NULL OR month = $3)"
        " ORDER BY province, published_on, reported_at, case_id LIMIT $4 OFFSET $5",
        campaign, province, month, limit, offset,
    )  # fmt: skip


async def adjust_tally(
    conn: Connection, campaign: str, province: str, month: str, change: int
) -> tuple[int, bool]:
    """Add `change` to the cases counted in a province-month, holding its row until commit;
    returns the new count and whether the month is closed."""
    row = await conn.fetchrow(
        "INSERT INTO province_months (campaign, province, month, cases_counted)"
        " VALUES ($1, $2, $3, GREATEST($4::integer, 0)) ON CONFLICT (campaign, province, month)"
        " DO UPDATE SET cases_counted = province_months.cases_counted + $4::integer"
        " RETURNING cases_counted, closed_at IS NOT NULL AS closed",
        campaign, province, month, change,
    )  # fmt: skip
    assert row is not None
    return row["cases_counted"], row["closed"]


async def open_tallies_for_update(
    conn: Connection, campaign: str, month: str, provinces: Sequence[str]
) -> list[asyncpg.Record]:
    """The provinces whose `month` is not closed yet, with their counts, locked until commit
    (a second closer waits, then finds them closed)."""
    await conn.execute(
        "INSERT INTO province_months (campaign, province, month)"
        " SELECT $1, unnest($3::text[]), $2 ON CONFLICT DO NOTHING",
        campaign, month, list(provinces),
    )  # fmt: skip
    return await conn.fetch(
        "SELECT province, cases_counted FROM province_months"
        " WHERE campaign = $1 AND month = $2 AND province = ANY($3::text[]) AND closed_at IS NULL"
        " ORDER BY province FOR UPDATE",
        campaign, month, list(provinces),
    )  # fmt: skip


async def mark_closed(
    conn: Connection, campaign: str, month: str, provinces: Sequence[str], at: datetime
) -> None:
    await conn.execute(
        "UPDATE province_months SET closed_at = $4"
        " WHERE campaign = $1 AND month = $2 AND province = ANY($3::text[])",
        campaign, month, list(provinces), at,
    )  # fmt: skip


async def tallies(pool: asyncpg.Pool, campaign: str) -> dict[tuple[str, str], tuple[int, bool]]:
    rows = await pool.fetch(
        "SELECT province, month, cases_counted, closed_at IS NOT NULL AS closed"
        " FROM province_months WHERE campaign = $1",
        campaign,
    )
    return {(r["province"], r["month"]): (r["cases_counted"], r["closed"]) for r in rows}
