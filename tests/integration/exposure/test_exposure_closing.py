"""exposure closes each month by the clock: every province met or missed, announced once."""

import asyncio
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from smonth_exposure import handlers

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")
JUST_BEFORE_JULY = datetime(2021, 6, 30, 23, 59, 59, 500000, tzinfo=SHANGHAI)
JUST_INTO_AUGUST = datetime(2021, 8, 1, 0, 0, 0, 500000, tzinfo=SHANGHAI)


async def closings(exposure, month: str) -> dict[str, str]:
    """The closing assessments announced for `month`, by province."""
    events = await exposure.events("exposure.month-assessed")
    closed = [e.data for e in events if e.data["month"] == month and e.data["closed"]]
    assert len(closed) == len({c["province"] for c in closed}), "a province closed twice"
    return {c["province"]: c["status"] for c in closed}


async def test_the_end_of_a_month_announces_every_province_met_or_missed(exposure) -> None:
    await exposure.record(exposure.case("44", date(2021, 6, 10)))

    async with exposure.running(JUST_BEFORE_JULY):
        june = await exposure.eventually(lambda: _all_closed(exposure, "2021-06"))
        cell = await exposure.cell("11", "2021-06")

    assert june["44"] == "met"
    assert {status for province, status in june.items() if province != "44"} == {"missed"}
    assert cell == {"cases_counted": 0, "quota": 1, "status": "missed", "closed": True}


async def test_a_restart_neither_closes_a_month_again_nor_skips_one_that_ended_while_down(
    exposure,
) -> None:
    async with exposure.running(JUST_BEFORE_JULY):
        await exposure.eventually(lambda: _all_closed(exposure, "2021-06"))

    # Down from the last second of June until just after July ended.
    async with exposure.running(JUST_INTO_AUGUST):
        await exposure.eventually(lambda: _all_closed(exposure, "2021-07"))
        august = await exposure.cell("44", "2021-08")

    assert len(await closings(exposure, "2021-06")) == 32
    assert len(await closings(exposure, "2021-07")) == 32
    assert august == {"cases_counted": 0, "quota": 1, "status": "unmet", "closed": False}


async def test_two_replicas_closing_the_same_month_announce_it_once(exposure) -> None:
    async def close() -> int:
        async with exposure.pool.acquire() as conn, conn.transaction():
            return len(await handlers.close_month(conn, exposure.deps, "2021-06"))

    closed = await asyncio.gather(close(), close())

    assert sorted(closed) == [0, 32]
    assert len(await closings(exposure, "2021-06")) == 32


async def test_a_case_reported_after_its_month_closed_still_counts_and_turns_it_met(
    exposure,
) -> None:
    async with exposure.pool.acquire() as conn, conn.transaction():
        await handlers.close_month(conn, exposure.deps, "2021-06")

    await exposure.record(exposure.case("44", date(2021, 6, 30)))

    latest = (await exposure.events("exposure.month-assessed"))[-1].data
    assert (latest["province"], latest["status"], latest["closed"]) == ("44", "met", True)


async def _all_closed(exposure, month: str) -> dict[str, str] | None:
    found = await closings(exposure, month)
    return found if len(found) == 32 else None
