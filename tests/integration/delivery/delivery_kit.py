"""What the delivery tests share: a throwaway service's tables, its events, and reading a topic."""

import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from smonth_shared.events import CaseReported, Envelope, new_event
from smonth_shared.kafka import KafkaAccess
from smonth_shared.outbox import Outbox
from smonth_shared.topics import topic_partitions
from tests.polling import eventually

__all__ = ["eventually"]  # the delivery tests import it from here

SCHEMA = "things"
PARTITIONS = 3  # of each test's own topic
THINGS_SQL = "CREATE TABLE things (id bigserial PRIMARY KEY, event_id uuid, name text NOT NULL);\n"


def case_event(subject: str, title: str) -> Envelope:
    """An event of a real type; the title tells the tests' events apart."""
    payload = CaseReported(
        case_id=uuid4(), province=subject, title=title, industry="mining", enterprise="某矿",
        summary="隐患", media_outlet="日报", published_on=date(2021, 6, 10),
        url="https://example.cn/case",
    )  # fmt: skip
    return new_event(
        payload, source="test", time=datetime.now(UTC), campaign="2021", subject=subject
    )


async def add_events(conn: asyncpg.Connection, topic: str, *events: Envelope) -> None:
    """Outbox.add, then the rows pointed at the test's own topic, in the caller's transaction
    (a type's topic is fixed, and a real topic is shared with every other test)."""
    await Outbox(SCHEMA).add(conn, *events)
    await conn.execute(
        "UPDATE outbox SET topic = $1 WHERE event_id = ANY($2::uuid[])",
        topic,
        [event.id for event in events],
    )


async def commit_events(pool: asyncpg.Pool, topic: str, *events: Envelope) -> None:
    """The state and its events in one transaction: a row in `things` per event."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany(
            "INSERT INTO things (event_id, name) VALUES ($1, $2)",
            [(event.id, event.data["title"]) for event in events],
        )
        await add_events(conn, topic, *events)


async def create_topic(kafka: KafkaAccess, name: str, partitions: int) -> None:
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, partitions, replication_factor=1)])
    finally:
        await admin.close()


async def partitions_of(kafka: KafkaAccess, topic: str) -> int:
    return len(await topic_partitions(kafka, (topic,)))


async def end_offsets(kafka: KafkaAccess, topic: str, partitions: int) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(**kafka.client_options(), enable_auto_commit=False)
    await consumer.start()
    try:
        return await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
    finally:
        await consumer.stop()


async def read_topic(
    kafka: KafkaAccess,
    topic: str,
    partitions: int,
    *,
    until: Callable[[list[ConsumerRecord]], bool],
    since: dict[TopicPartition, int] | None = None,
    within: float = 30.0,
    keep: Callable[[ConsumerRecord], bool] = lambda record: True,
) -> list[ConsumerRecord]:
    """The records kept so far, in (partition, offset) order, once `until` holds of them; or
    whatever was kept after `within` seconds."""
    assigned = [TopicPartition(topic, p) for p in range(partitions)]
    consumer = AIOKafkaConsumer(**kafka.client_options(), enable_auto_commit=False)
    await consumer.start()
    kept: list[ConsumerRecord] = []
    try:
        consumer.assign(assigned)
        for partition in assigned:
            consumer.seek(partition, (since or {}).get(partition, 0))
        deadline = time.monotonic() + within
        while not until(kept) and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=100)
            kept += [record for batch in batches.values() for record in batch if keep(record)]
            kept.sort(key=lambda record: (record.partition, record.offset))
    finally:
        await consumer.stop()
    return kept


async def read_to_end(kafka: KafkaAccess, topic: str, partitions: int) -> list[ConsumerRecord]:
    """Every record on the topic now, in (partition, offset) order: for a test that has waited
    until nothing more will be written, and must see that nothing else was."""
    assigned = [TopicPartition(topic, p) for p in range(partitions)]
    consumer = AIOKafkaConsumer(**kafka.client_options(), enable_auto_commit=False)
    await consumer.start()
    kept: list[ConsumerRecord] = []
    try:
        consumer.assign(assigned)
        await consumer.seek_to_beginning(*assigned)
        ends = await consumer.end_offsets(assigned)
        while [p for p, end in ends.items() if await consumer.position(p) < end]:
            batches = await consumer.getmany(timeout_ms=100)
            kept += [record for batch in batches.values() for record in batch]
    finally:
        await consumer.stop()
    return sorted(kept, key=lambda record: (record.partition, record.offset))


def event_ids(records: Iterable[ConsumerRecord]) -> list[UUID]:
    return [Envelope.from_bytes(record.value).id for record in records]


async def someone_waits_for_an_advisory_lock(pool: asyncpg.Pool) -> bool:
    """Whether a session of this database is blocked asking for an advisory lock: the exact
    moment a test of lock order waits for, however long the machine takes to get there."""
    return await pool.fetchval(
        "SELECT count(*) > 0 FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
        " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    )


async def unpublished(pool: asyncpg.Pool, ids: Sequence[UUID]) -> int:
    return await pool.fetchval(
        "SELECT count(*) FROM outbox JOIN outbox_pending USING (seq)"
        " WHERE event_id = ANY($1::uuid[])",
        list(ids),
    )
