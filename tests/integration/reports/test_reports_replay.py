"""Replay: the read model rebuilt from the beginning of the topics equals the live one."""

from datetime import date
from typing import Any

import orjson
import pytest

from smonth_reports.replay import ReplayRefused, replay
from smonth_shared.events import Envelope

pytestmark = pytest.mark.integration


async def test_the_rebuilt_summary_equals_the_live_one(reports: Any) -> None:
    events = reports.a_campaign_in_brief()
    tips = [event for event in events if event.type == "tip.received"]
    again = reports.tip("44", "construction")
    await reports.send(*events, events[0], tips[1])  # delivered twice: counted once
    # Read by the contract's models only (a lax boolean), which still accept it: counted.
    await _send_raw(reports, _changed(again, named="true"))
    # Refused by the contract (the live consumer dead-letters them): not counted.
    await _send_raw(reports, b"not an event", _changed(reports.tip("44"), province="4"),
                    _changed(reports.resolution(tips[2], "verified"), rectified="maybe"))  # fmt: skip
    applied = len(events) + 1
    async with reports.running():
        await reports.eventually(lambda: _equals(reports.processed(), applied))
        live = await reports.summary(detail="true")
    assert live["tips"]["received"] == len(tips) + 1
    steps: list[tuple[int, int]] = []
    indexes = await _indexes(reports)

    result = await replay(
        reports.service_settings(),
        progress=lambda done, total: steps.append((done, total)),
        topics=(reports.topic,),
    )

    assert (result.applied, result.skipped) == (applied, 5)
    assert steps[-1] == (applied + 5, applied + 5)
    assert [done for done, _ in steps] == sorted(done for done, _ in steps)
    assert await _indexes(reports) == indexes  # set aside while the rows went in, and back
    async with reports.running():
        assert await reports.summary(detail="true") == live
        later = reports.progress("E002", date(2021, 7, 2), drills=1)
        await reports.send(later)  # what comes after the replay is applied, once
        await reports.eventually(lambda: _equals(reports.processed(), applied + 1))
        assert (await reports.summary())["totals"]["drills"] == live["totals"]["drills"] + 1


async def test_replay_refuses_while_the_service_consumes(reports: Any) -> None:
    await reports.send(reports.progress("44", date(2021, 6, 30), drills=1))
    async with reports.running():
        await reports.eventually(lambda: _equals(reports.processed(), 1))
        with pytest.raises(ReplayRefused, match="stop the reports service"):
            await replay(reports.service_settings(),
                         topics=(reports.topic,))  # fmt: skip


def _changed(event: Envelope, **data: Any) -> bytes:
    """The event's value with some of its payload's fields changed."""
    envelope = orjson.loads(event.to_bytes())
    envelope["data"].update(data)
    return orjson.dumps(envelope)


async def _send_raw(reports: Any, *values: bytes) -> None:
    for value in values:
        await reports.producer.send_and_wait(reports.topic, value=value, key=b"44")


async def _equals(count: Any, expected: int) -> bool:
    return await count == expected


async def _indexes(reports: Any) -> list[tuple[str, str, str | None]]:
    """Each index of the service's tables, and the constraint it backs."""
    rows = await reports.pool.fetch(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),"
        " pg_get_constraintdef(c.oid) FROM pg_index i"
        " LEFT JOIN pg_constraint c ON c.conindid = i.indexrelid"
        " WHERE i.indrelid::regclass::text = ANY($1) ORDER BY 1",
        ["inbox", "tips"],
    )
    assert len(rows) >= 3, rows  # the inbox's key, the tips' key and their campaign index
    return [tuple(row) for row in rows]
