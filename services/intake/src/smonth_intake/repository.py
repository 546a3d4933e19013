"""intake's tables in SQL ($1 parameters; the pool's search_path is intake's schema)."""

from datetime import datetime
from uuid import UUID

from smonth_intake.models import CaseSubmission, TipSubmission
from smonth_shared.db import Connection


async def insert_tip(
    conn: Connection, *, tip_id: UUID, campaign: str, tip: TipSubmission,
    contact_encrypted: bytes | None, receipt_hash: bytes, received_at: datetime,
) -> None:  # fmt: skip
    await conn.execute(
        "INSERT INTO tips (tip_id, campaign, province, industry, category, description, city,"
        " location, enterprise, occurred_on, contact_encrypted, receipt_hash, received_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        tip_id, campaign, tip.province, tip.industry, tip.category, tip.description, tip.city,
        tip.location, tip.enterprise, tip.occurred_on, contact_encrypted, receipt_hash, received_at,
    )  # fmt: skip


async def case_with_url(conn: Connection, province: str, url: str) -> UUID | None:
    return await conn.fetchval(
        "SELECT case_id FROM cases WHERE province = $1 AND url = $2", province, url
    )


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
