"""The consumer applies a Kafka batch a statement per event type: the read model must come out
as it does when the same events are applied one by one, in their order."""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from smonth_reports.handlers import BATCH_EFFECTS
from smonth_reports.repository import READ_MODEL_TABLES
from smonth_shared.consumer import Inbox, apply_batch

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def test_events_applied_as_one_batch_give_the_summary_one_by_one_gives(
    reports: Any,
) -> None:
    events = [
        *reports.a_campaign_in_brief(),
        # Several events of one row in the batch: the one applied last one by one must win.
        reports.liaison("44", "王芳"),
        reports.summary_report("44", datetime(2021, 7, 6, 9, tzinfo=SHANGHAI), on_time=False),
        reports.progress("44", date(2021, 6, 30), 2, drills=12),
        reports.assessment("44", "2021-06", 2, "met", closed=True),
        reports.progress("11", date(2021, 6, 25), 1, drills=1),
        reports.progress("11", date(2021, 6, 25), 1, drills=2),
    ]
    await reports.record(*events)
    async with reports.running():
        one_by_one = await reports.summary(detail="true")

    async with reports.pool.acquire() as conn, conn.transaction():
        await conn.execute("TRUNCATE " + ", ".join(READ_MODEL_TABLES))
        applied = await apply_batch(conn, Inbox("batch"), BATCH_EFFECTS, [*events, events[0]])

    assert applied == len(events)
    async with reports.running():
        assert await reports.summary(detail="true") == one_by_one
