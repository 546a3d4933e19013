"""B5: rebuilding reports' read model from the topics (smonth_reports.replay, as `safety-month
replay` runs it), against a raw consume of the same topics with COPY of every record."""

import asyncio
import time
import uuid
from collections import defaultdict

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.context import Context
from bench.data import Event, Events
from bench.report import Figure, at_least_ratio, below
from bench.stack import JWT_SECRET, create_topic, delete_topics, fresh_database
from smonth_reports.config import ReportsSettings
from smonth_reports.replay import replay
from smonth_shared.kafka import KafkaAccess
from smonth_shared.outbox import new_producer
from smonth_shared.topics import topic_partitions

ONE_MINUTE = 60.0


async def publish_mix(kafka: KafkaAccess, count: int) -> tuple[str, ...]:
    """`count` events of the month's kinds, each on a topic of its kind (of this run's own)."""
    topics = {kind: await create_topic(kafka, f"replay-{kind.split('.')[0]}")
              for kind in ("tip", "case", "progress")}  # fmt: skip
    events = Events(seed=5)
    producer = new_producer(kafka, linger_ms=20)
    await producer.start()
    try:
        futures = []
        for _ in range(count):
            event: Event = events.mix()
            futures.append(await producer.send(
                topics[event.type.split(".")[0]], value=event.value, key=event.subject.encode()
            ))  # fmt: skip
            if len(futures) >= 20_000:
                await asyncio.gather(*futures)
                futures.clear()
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return tuple(topics.values())


async def replayed(ctx: Context, dsn: str, topics: tuple[str, ...]) -> tuple[float, int]:
    settings = ReportsSettings(
        database_url=dsn, **ctx.kafka_settings(),
        safety_month_jwt_secret=JWT_SECRET, service_name=f"replay_{uuid.uuid4().hex[:8]}",
    )  # type: ignore[call-arg]  # fmt: skip
    started = time.monotonic()
    result = await replay(settings, topics=topics)
    return time.monotonic() - started, result.applied + result.skipped


async def raw_copy(ctx: Context, dsn: str, topics: tuple[str, ...]) -> tuple[float, int]:
    """Every record read from the beginning to the end and COPYed, in one transaction."""
    conn = await asyncpg.connect(dsn)
    consumer = AIOKafkaConsumer(
        **ctx.kafka.client_options(), group_id=None, enable_auto_commit=False,
        auto_offset_reset="earliest", max_poll_records=2000,
    )  # fmt: skip
    started = time.monotonic()
    await consumer.start()
    read = 0
    try:
        await conn.execute("CREATE TEMPORARY TABLE events (id uuid, type text, subject text,"
                           " data jsonb)")  # fmt: skip
        partitions = await topic_partitions(ctx.kafka, topics)
        consumer.assign(partitions)
        end = await consumer.end_offsets(partitions)
        await consumer.seek_to_beginning(*partitions)
        position: dict[TopicPartition, int] = defaultdict(int)
        async with conn.transaction():
            while any(position[tp] < end[tp] for tp in partitions):
                batches = await consumer.getmany(timeout_ms=500)
                rows = []
                for tp, records in batches.items():
                    for record in records:
                        envelope = orjson.loads(record.value or b"{}")
                        rows.append((envelope["id"], envelope["type"], envelope["subject"],
                                     orjson.dumps(envelope["data"]).decode()))  # fmt: skip
                        position[tp] = record.offset + 1
                if rows:
                    await conn.copy_records_to_table(
                        "events", records=rows, columns=["id", "type", "subject", "data"]
                    )
                    read += len(rows)
    finally:
        await consumer.stop()
        await conn.close()
    return time.monotonic() - started, read


async def run(ctx: Context, figure: Figure) -> None:
    count = ctx.volumes.b5_events
    rate = figure.row(
        f"replay of {count:,} events", "events/s", target="≥ 0.5× baseline",
        check=at_least_ratio(0.5),
        how="smonth_reports.replay.replay() on topics of the run's own (70% tips received, "
        "20% resolved, 10% cases and snapshots), fresh schema; baseline: aiokafka from the "
        "beginning to the end, every record COPYed, one transaction",
    )  # fmt: skip
    total = figure.row(f"replay of {count:,} events, total", "s", target="< 60 s",
                       check=below(ONE_MINUTE))  # fmt: skip
    topics = await publish_mix(ctx.kafka, count)
    try:
        async with fresh_database(ctx.server_url, "b5") as dsn:
            for round_ in range(ctx.volumes.b5_rounds):
                seconds, read = await raw_copy(ctx, dsn, topics)
                rate.baseline.append(read / seconds)
                total.baseline.append(seconds)
                seconds, read = await replayed(ctx, dsn, topics)
                rate.samples.append(read / seconds)
                total.samples.append(seconds)
                ctx.log(f"B5 round {round_ + 1}: replay {rate.samples[-1]:,.0f} events/s "
                        f"({seconds:.1f} s), raw {rate.baseline[-1]:,.0f} events/s")  # fmt: skip
    finally:
        await delete_topics(ctx.kafka, *topics)
