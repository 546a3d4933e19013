"""national-summary.published: the artifacts behind its links, on demand and on schedule, once."""

import hashlib
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from smonth_shared.events import NATIONAL, Envelope
from smonth_shared.kafka import KafkaAccess

pytestmark = pytest.mark.integration

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def published(reports: Any) -> list[Envelope]:
    rows = await reports.pool.fetch(
        "SELECT value FROM outbox WHERE event_type = 'national-summary.published' ORDER BY seq"
    )
    return [Envelope.from_bytes(bytes(row["value"])) for row in rows]


async def test_a_summary_published_on_demand_links_to_bytes_matching_its_checksums(
    reports: Any, kafka: KafkaAccess
) -> None:
    await reports.record(*reports.a_campaign_in_brief())
    async with reports.running() as client:
        answer = await client.post("/v1/national-summary/publications", headers=reports.auth())
        assert answer.status_code == 202, answer.text
        [event] = await published(reports)
        assert event.subject == "2021" and event.data["trigger"] == "on_demand"
        formats = sorted(artifact["format"] for artifact in event.data["artifacts"])
        assert formats == ["csv"] * 6 + ["html", "json", "pdf", "xlsx"]
        for artifact in event.data["artifacts"]:
            path = artifact["url"].removeprefix(reports.service_settings().base_url)
            fetched = await client.get(path, headers=reports.auth("system"))
            assert fetched.status_code == 200
            assert hashlib.sha256(fetched.content).hexdigest() == artifact["sha256"]
            assert len(fetched.content) == artifact["size"]
        listed = (await reports.get("/v1/publications")).json()
        assert [p["id"] for p in listed] == [answer.json()["id"]]
        relayed = await reports.eventually(lambda: on_the_national_topic(kafka, event))
        assert relayed.data == event.data


async def on_the_national_topic(kafka: KafkaAccess, wanted: Envelope) -> Envelope | None:
    """The event as it stands on smonth.national.v1, once the relay has published it."""
    consumer = AIOKafkaConsumer(**kafka.client_options(), group_id=None,
                                enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        partition = TopicPartition(NATIONAL.name, 0)
        consumer.assign([partition])
        end = (await consumer.end_offsets([partition]))[partition]
        consumer.seek(partition, max(0, end - 50))
        while (await consumer.position(partition)) < end:
            for records in (await consumer.getmany(partition, timeout_ms=500)).values():
                for record in records:
                    event = Envelope.from_bytes(record.value or b"")
                    if event.id == wanted.id:
                        return event
        return None
    finally:
        await consumer.stop()


async def test_each_moment_of_the_campaign_is_published_once_across_restarts(
    reports: Any,
) -> None:
    june_end = datetime(2021, 7, 1, 0, 0, tzinfo=SHANGHAI)
    after_deadline = datetime(2021, 7, 6, 9, 0, tzinfo=SHANGHAI)
    async with reports.running(datetime(2021, 6, 30, 22, 0, tzinfo=SHANGHAI)):
        pass  # the schedule starts: from now on every moment is owed
    assert await published(reports) == []

    async with reports.running(datetime(2021, 7, 1, 8, 0, tzinfo=SHANGHAI)):
        # down at midnight: the moment is published on restart
        await reports.eventually(lambda: has_published(reports, 1))
    async with reports.running(after_deadline.replace(second=0, minute=59, hour=8), speed=30):
        # up two simulated minutes before the next moment: published when it comes
        await reports.eventually(lambda: has_published(reports, 2), within=60)
    async with reports.running(datetime(2021, 7, 6, 10, 0, tzinfo=SHANGHAI)):
        await reports.schedule_caught_up()  # anything still owed would be published by now

    events = await published(reports)
    assert [e.data["trigger"] for e in events] == ["month_end:2021-06", "after_deadline"]
    moments = await reports.pool.fetch("SELECT moment FROM publications ORDER BY moment")
    assert [row["moment"] for row in moments] == [june_end, after_deadline]
    assert datetime.fromisoformat(events[1].data["as_of"]) >= after_deadline


async def has_published(reports: Any, count: int) -> bool:
    return len(await published(reports)) >= count
