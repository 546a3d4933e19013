"""The metrics an operator alerts on tell what happened: dead letters, repeats the inbox dropped,
the outbox's backlog and the consumers' lag (smonth_shared.metrics), on the real servers."""

import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from prometheus_client import REGISTRY

from smonth_shared.consumer import DeadLetters, EventProcessor, Record, one_by_one
from smonth_shared.events import Envelope
from smonth_shared.kafka import KafkaAccess
from smonth_shared.metrics import observe_lag, observe_outbox
from tests.integration.delivery.delivery_kit import case_event, commit_events, eventually

pytestmark = pytest.mark.integration


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def _remember(conn: asyncpg.Connection, event: Envelope) -> None:
    await conn.execute("INSERT INTO things (event_id, name) VALUES ($1, 'x')", event.id)


def _processor(pool: asyncpg.Pool, producer: AIOKafkaProducer, name: str) -> EventProcessor:
    return EventProcessor(
        consumer=name, pool=pool, dead_letters=DeadLetters(producer, source=name),
        effects={"case.reported": _remember},
        batch_effects={"case.reported": one_by_one(_remember)},
    )  # fmt: skip


def _record(value: bytes, offset: int) -> Record:
    return Record("smonth.case.v1", 0, offset, b"44", value)


async def test_a_dead_letter_is_counted_by_the_service_and_the_topic_it_came_from(
    pool: asyncpg.Pool, producer: AIOKafkaProducer
) -> None:
    name = f"metrics-{uuid.uuid4().hex[:8]}"

    await _processor(pool, producer, name).process([_record(b"\xff not json", 0)])

    assert sample("smonth_dead_letters_total", service=name, topic="smonth.case.v1") == 1


async def test_each_repeat_the_inbox_drops_is_counted_alone_or_in_a_batch(
    pool: asyncpg.Pool, producer: AIOKafkaProducer
) -> None:
    name = f"metrics-{uuid.uuid4().hex[:8]}"
    processor = _processor(pool, producer, name)
    event = case_event("44", "twice").to_bytes()

    await processor.process([_record(event, 0)])
    await processor.process([_record(event, 1)])  # a batch of one
    await processor.process_one(_record(event, 2))

    assert sample("smonth_inbox_duplicates_total", consumer=name) == 2


async def test_the_outbox_backlog_is_its_unpublished_rows_and_the_age_of_the_oldest(
    pool: asyncpg.Pool, topic: str, start_relay
) -> None:
    service = f"metrics-{uuid.uuid4().hex[:8]}"
    await commit_events(pool, topic, case_event("44", "a"), case_event("44", "b"))
    await pool.execute("UPDATE outbox SET created_at = now() - interval '90 seconds'"
                       " WHERE seq = (SELECT min(seq) FROM outbox)")  # fmt: skip
    await commit_events(pool, topic, case_event("44", "refused"))
    await pool.execute("WITH parked AS (DELETE FROM outbox_pending"
                       "   WHERE seq = (SELECT max(seq) FROM outbox) RETURNING seq)"
                       " UPDATE outbox SET parked_reason = 'too large'"
                       " WHERE seq = (SELECT seq FROM parked)")  # fmt: skip

    await observe_outbox(pool, service)

    assert sample("smonth_outbox_backlog_rows", service=service) == 2
    assert sample("smonth_outbox_parked_rows", service=service) == 1
    assert 90 <= sample("smonth_outbox_oldest_age_seconds", service=service) < 600

    start_relay()

    async def drained() -> bool:
        await observe_outbox(pool, service)
        return sample("smonth_outbox_backlog_rows", service=service) == 0

    await eventually(drained, what="the relay publishes the backlog")
    assert sample("smonth_outbox_oldest_age_seconds", service=service) == 0
    assert sample("smonth_outbox_parked_rows", service=service) == 1


async def test_a_groups_lag_is_what_each_partition_holds_beyond_what_it_was_given(
    kafka: KafkaAccess, producer: AIOKafkaProducer, topic: str
) -> None:
    for number in range(5):
        await producer.send_and_wait(topic, value=b"%d" % number, partition=0)
    group = f"metrics-{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(**kafka.client_options(), group_id=group,
                                enable_auto_commit=False, auto_offset_reset="earliest")  # fmt: skip
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, 0), TopicPartition(topic, 1)])
        given: list[object] = []
        while len(given) < 2:
            batches = await consumer.getmany(timeout_ms=500, max_records=2 - len(given))
            given += [record for batch in batches.values() for record in batch]

        await observe_lag({group: consumer})

        assert sample("smonth_consumer_lag", group=group, topic=topic, partition="0") == 3
    finally:
        await consumer.stop()
