"""The summary reads tip counts from tallies that triggers keep (migration 003): whatever path
writes the tips (one by one, a batch, a repeated event, a correction, a removal, an emptying), the
tallies must equal a count of the tips themselves."""

from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from smonth_reports.handlers import BATCH_EFFECTS
from smonth_shared.consumer import Inbox, apply_batch

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")

BY_KIND = (
    "SELECT province, industry, status, count(*)::int AS tips,"
    " count(*) FILTER (WHERE rectified)::int AS rectified,"
    " count(*) FILTER (WHERE reward_paid)::int AS reward_paid,"
    " count(*) FILTER (WHERE named)::int AS named"
    " FROM tips GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
)
TALLIED_BY_KIND = (
    "SELECT province, industry, status, tips, rectified, reward_paid, named"
    " FROM tip_tally WHERE tips <> 0 ORDER BY 1, 2, 3"
)
BY_DAY = (
    "SELECT (received_at AT TIME ZONE 'Asia/Shanghai')::date AS day, count(*)::int AS tips"
    " FROM tips GROUP BY 1 ORDER BY 1"
)
TALLIED_BY_DAY = (
    "SELECT (quarter AT TIME ZONE 'Asia/Shanghai')::date AS day, sum(tips)::int AS tips"
    " FROM tip_arrivals GROUP BY 1 HAVING sum(tips) <> 0 ORDER BY 1"
)


async def counted(reports: Any) -> tuple[list[Any], list[Any]]:
    """(tips counted, tips tallied), by kind and by day in Beijing time."""
    async with reports.pool.acquire() as conn:
        counts = [[dict(r) for r in await conn.fetch(sql)] for sql in (BY_KIND, BY_DAY)]
        tallies = [
            [dict(r) for r in await conn.fetch(sql)] for sql in (TALLIED_BY_KIND, TALLIED_BY_DAY)
        ]
    return counts, tallies


async def test_tallies_equal_the_tips_on_every_write_path(reports: Any) -> None:
    # Around midnight in Beijing (16:00 UTC): the days must be Beijing's, not UTC's.
    midnight = datetime(2021, 6, 17, 0, 0, tzinfo=SHANGHAI)
    tips = [
        reports.tip("44", "mining", at=midnight - timedelta(minutes=1)),
        reports.tip("44", "mining", at=midnight),
        reports.tip("44", "road_traffic", at=midnight + timedelta(minutes=14)),
        reports.tip("11", at=midnight + timedelta(days=3)),
    ]
    await reports.record(tips[0])  # one by one
    async with reports.pool.acquire() as conn, conn.transaction():
        # A batch that repeats an event already applied, and one within itself.
        await apply_batch(conn, Inbox("tallies"), BATCH_EFFECTS, [*tips, tips[1]])
    counts, tallies = await counted(reports)
    assert counts == tallies
    assert [row["tips"] for row in tallies[1]] == [1, 2, 1]

    # Corrections: verified, then corrected to unfounded; in a batch and one by one.
    async with reports.pool.acquire() as conn, conn.transaction():
        await apply_batch(conn, Inbox("tallies-2"), BATCH_EFFECTS, [
            reports.resolution(tips[0], "verified"), reports.resolution(tips[2], "verified"),
            reports.resolution(tips[2], "unfounded"),
        ])  # fmt: skip
    await reports.record(reports.resolution(tips[3], "verified"))
    await reports.record(reports.resolution(tips[0], "unfounded"))
    counts, tallies = await counted(reports)
    assert counts == tallies
    assert {row["status"] for row in tallies[0]} == {"received", "unfounded", "verified"}

    await reports.pool.execute("DELETE FROM tips WHERE province = '11'")
    counts, tallies = await counted(reports)
    assert counts == tallies

    await reports.pool.execute("TRUNCATE tips")
    assert (
        await reports.pool.fetchval(
            "SELECT (SELECT count(*) FROM tip_tally) + (SELECT count(*) FROM tip_arrivals)"
        )
        == 0
    )


async def test_the_summary_counts_tips_from_the_tallies(reports: Any) -> None:
    tips = [reports.tip("44", "mining"), reports.tip("44", "mining"), reports.tip("11")]
    await reports.record(*tips, reports.resolution(tips[1], "verified"))
    async with reports.running():
        summary = await reports.summary()
    counts, tallies = await counted(reports)
    assert counts == tallies
    assert (summary["tips"]["received"], summary["tips"]["verified"]) == (3, 1)
    assert summary["tips"]["by_province"]["44"] == 2
