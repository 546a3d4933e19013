"""Replay: the read model rebuilt from the beginning of the topics equals the live one."""

from datetime import date
from typing import Any

import pytest

from smonth_reports.replay import ReplayRefused, replay

pytestmark = pytest.mark.integration


async def test_the_rebuilt_summary_equals_the_live_one(reports: Any) -> None:
    events = reports.a_campaign_in_brief()
    await reports.send(*events, events[0])  # delivered twice: counted once
    await reports.producer.send_and_wait(reports.topic, value=b"not an event", key=b"44")
    async with reports.running():
        await reports.eventually(lambda: _equals(reports.processed(), len(events)))
        live = await reports.summary(detail="true")
    steps: list[tuple[int, int]] = []

    result = await replay(
        reports.service_settings(),
        progress=lambda done, total: steps.append((done, total)),
        topics=(reports.topic,),
    )

    assert (result.applied, result.skipped) == (len(events), 2)
    assert steps[-1] == (len(events) + 2, len(events) + 2)
    assert [done for done, _ in steps] == sorted(done for done, _ in steps)
    async with reports.running():
        assert await reports.summary(detail="true") == live
        later = reports.progress("E002", date(2021, 7, 2), drills=1)
        await reports.send(later)  # what comes after the replay is applied, once
        await reports.eventually(lambda: _equals(reports.processed(), len(events) + 1))
        assert (await reports.summary())["totals"]["drills"] == live["totals"]["drills"] + 1


async def test_replay_refuses_while_the_service_consumes(reports: Any) -> None:
    await reports.send(reports.progress("44", date(2021, 6, 30), drills=1))
    async with reports.running():
        await reports.eventually(lambda: _equals(reports.processed(), 1))
        with pytest.raises(ReplayRefused, match="stop the reports service"):
            await replay(reports.service_settings(),
                         topics=(reports.topic,))  # fmt: skip


async def _equals(count: Any, expected: int) -> bool:
    return await count == expected
