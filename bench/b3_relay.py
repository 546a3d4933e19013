"""B3: the outbox relay draining pending rows to the broker, against raw aiokafka sending the same
payloads with gathered futures and the same producer settings (smonth_shared.outbox.new_producer)."""

import asyncio
import json
import tempfile
import time
from pathlib import Path

import asyncpg

from bench.context import Context
from bench.data import Event, Events
from bench.report import Figure, at_least_ratio
from bench.stack import create_topic, delete_topics, fresh_database
from smonth_shared.db import create_pool, migrate
from smonth_shared.outbox import OutboxRelay, new_producer, pending_count
from smonth_shared.settings import ServiceSettings

SCHEMA = "bench_relay"
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def payloads(count: int) -> list[Event]:
    """`count` tip.received events, as intake writes them."""
    events = Events(seed=3)
    return [events.tip_received() for _ in range(count)]


async def fill_outbox(pool: asyncpg.Pool, topic: str, rows: list[Event]) -> None:
    headers = json.dumps({"traceparent": TRACEPARENT})
    async with pool.acquire() as conn:
        await conn.execute("TRUNCATE outbox, outbox_pending")
        await conn.copy_records_to_table(
            "outbox", columns=["event_id", "topic", "key", "event_type", "value", "headers"],
            records=[(e.id, topic, e.subject, e.type, e.value, headers) for e in rows],
        )  # fmt: skip
        await conn.execute("INSERT INTO outbox_pending SELECT seq FROM outbox")
        await conn.execute("ANALYZE outbox, outbox_pending")


async def relay_drains(ctx: Context, pool: asyncpg.Pool, dsn: str, count: int) -> float:
    relay = OutboxRelay(
        pool, dsn=dsn, schema=SCHEMA, kafka=ctx.kafka,
        batch_size=ServiceSettings.model_fields["relay_batch_size"].default,
    )  # fmt: skip
    started = time.monotonic()
    task = asyncio.create_task(relay.run())
    try:
        while await pending_count(pool):
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
        return count / (time.monotonic() - started)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def raw_sends(ctx: Context, topic: str, rows: list[Event]) -> float:
    producer = new_producer(ctx.kafka)
    headers = [("traceparent", TRACEPARENT.encode()), ("content-type", b"application/json")]
    started = time.monotonic()
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic,
                value=e.value,
                key=e.subject.encode(),
                headers=[*headers, ("event-type", e.type.encode())],
            )
            for e in rows
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()
    return len(rows) / (time.monotonic() - started)


async def run(ctx: Context, figure: Figure) -> None:
    count = ctx.volumes.b3_rows
    drain = figure.row(
        f"relay draining {count:,} rows", "rows/s", target="≥ 0.7× baseline",
        check=at_least_ratio(0.7),
        how="rows COPYed into an outbox, OutboxRelay started, time until none is pending; "
        "baseline: new_producer() sending the same payloads, futures gathered",
    )  # fmt: skip
    rows = await asyncio.to_thread(payloads, count)
    async with fresh_database(ctx.server_url, "b3") as dsn:
        with tempfile.TemporaryDirectory() as nothing:
            await migrate(dsn, SCHEMA, Path(nothing))
        pool = await create_pool(dsn, SCHEMA)
        try:
            for round_ in range(ctx.volumes.rounds):
                topic = await create_topic(ctx.kafka, "relay")
                raw_topic = await create_topic(ctx.kafka, "raw")
                drain.baseline.append(await raw_sends(ctx, raw_topic, rows))
                await fill_outbox(pool, topic, rows)
                drain.samples.append(await relay_drains(ctx, pool, dsn, count))
                await delete_topics(ctx.kafka, topic, raw_topic)
                ctx.log(f"B3 round {round_ + 1}: relay {drain.samples[-1]:,.0f} rows/s, "
                        f"raw {drain.baseline[-1]:,.0f} msgs/s")  # fmt: skip
        finally:
            await pool.close()
