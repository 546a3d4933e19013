"""The inbox: an event delivered again, for whatever reason, has its effect once."""

import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from smonth_shared.consumer import DeadLetters, EventProcessor, Inbox, OffsetCommits, Record
from smonth_shared.events import Envelope
from smonth_shared.kafka import KafkaAccess
from tests.integration.delivery.delivery_kit import case_event, create_topic

pytestmark = pytest.mark.integration


async def _remember(conn: asyncpg.Connection, event: Envelope) -> None:
    await conn.execute(
        "INSERT INTO things (event_id, name) VALUES ($1, $2)", event.id, event.data["title"]
    )


def _processor(pool: asyncpg.Pool, producer: AIOKafkaProducer, consumer: str) -> EventProcessor:
    return EventProcessor(
        consumer=consumer, pool=pool, dead_letters=DeadLetters(producer, source="test"),
        effects={"case.reported": _remember},
    )  # fmt: skip


def _record(event: Envelope, offset: int = 0) -> Record:
    return Record(topic="test.inbox", partition=0, offset=offset, key=b"44", value=event.to_bytes())


async def _things(pool: asyncpg.Pool) -> list[str]:
    return [row["name"] for row in await pool.fetch("SELECT name FROM things ORDER BY id")]


async def test_the_same_event_delivered_twice_has_one_effect(
    pool: asyncpg.Pool, producer: AIOKafkaProducer
) -> None:
    event = case_event("44", "once")
    processor = _processor(pool, producer, "reports")

    await processor.process([_record(event), _record(event, offset=1)])
    await processor.process_one(_record(event))

    assert await _things(pool) == ["once"]
    inbox = await pool.fetch("SELECT consumer, event_id FROM inbox")
    assert [tuple(row) for row in inbox] == [("reports", event.id)]


async def test_each_consumer_has_its_own_inbox(
    pool: asyncpg.Pool, producer: AIOKafkaProducer
) -> None:
    event = case_event("44", "seen by two")

    await _processor(pool, producer, "reports").process_one(_record(event))
    await _processor(pool, producer, "notify").process_one(_record(event))

    assert await _things(pool) == ["seen by two", "seen by two"]


async def test_an_event_of_a_type_without_an_effect_is_passed_over(
    pool: asyncpg.Pool, producer: AIOKafkaProducer
) -> None:
    processor = EventProcessor(
        consumer="reports", pool=pool, dead_letters=DeadLetters(producer, source="test"),
        effects={"tip.received": _remember},
    )  # fmt: skip

    await processor.process_one(_record(case_event("44", "not for me")))

    assert await _things(pool) == []
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 0


async def test_a_batch_claims_only_the_events_not_seen_before(pool: asyncpg.Pool) -> None:
    seen, new = uuid.uuid4(), uuid.uuid4()
    inbox = Inbox("reports")
    async with pool.acquire() as conn:
        assert await inbox.claim(conn, seen)

        assert await inbox.claim_many(conn, [seen, new, new]) == {new}
        assert not await inbox.claim(conn, new)


async def test_a_crash_before_the_offset_commit_redelivers_and_still_has_one_effect(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, kafka: KafkaAccess, unique_topic: str
) -> None:
    await create_topic(kafka, unique_topic, 1)
    event = case_event("44", "survives a crash")
    await producer.send_and_wait(unique_topic, event.to_bytes(), key=b"44")
    group = f"test.{uuid.uuid4().hex[:8]}"
    processor = _processor(pool, producer, "reports")

    crashed = await _group_member(kafka, unique_topic, group)
    try:
        first = await _next_batch(crashed)
        await processor.process(first)  # the effect commits; the offset never does
    finally:
        await crashed.stop()
    successor = await _group_member(kafka, unique_topic, group)
    try:
        again = await _next_batch(successor)
        await processor.process(again)
        await successor.commit()
        committed = await successor.committed(TopicPartition(unique_topic, 0))
    finally:
        await successor.stop()

    assert [(r.offset, r.value) for r in first] == [(r.offset, r.value) for r in again]
    assert await _things(pool) == ["survives a crash"]
    assert committed == 1


async def _group_member(kafka: KafkaAccess, topic: str, group: str) -> AIOKafkaConsumer:
    consumer = AIOKafkaConsumer(
        topic, **kafka.client_options(), group_id=group, enable_auto_commit=False,
        auto_offset_reset="earliest",
    )  # fmt: skip
    await consumer.start()
    return consumer


async def _next_batch(consumer: AIOKafkaConsumer) -> list[Record]:
    for _ in range(100):
        batches = await consumer.getmany(timeout_ms=100)
        if batches:
            return [Record.of(record) for batch in batches.values() for record in batch]
    raise AssertionError("nothing delivered within 10 s")


async def test_the_offsets_of_processed_batches_are_committed_while_the_next_is_fetched(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, kafka: KafkaAccess, unique_topic: str
) -> None:
    await create_topic(kafka, unique_topic, 2)
    for n in range(6):
        await producer.send_and_wait(
            unique_topic, case_event("44", f"thing {n}").to_bytes(), partition=n % 2
        )
    member = await _group_member(kafka, unique_topic, f"test.{uuid.uuid4().hex[:8]}")
    commits = OffsetCommits("test consumer")
    try:
        seen: list[Record] = []
        while len(seen) < 6:
            batch = await _next_batch(member)
            await _processor(pool, producer, "reports").process(batch)
            commits.processed(member, batch)  # returns at once: the commit runs behind
            seen += batch
        await commits.flush()
        committed = [await member.committed(TopicPartition(unique_topic, p)) for p in (0, 1)]
    finally:
        await member.stop()

    assert committed == [3, 3]
    assert len(await _things(pool)) == 6
