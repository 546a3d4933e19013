"""B4: reports projecting smonth.tip.v1 into its read model, against raw aiokafka `getmany` and the
same writes batched with asyncpg (one transaction per batch: the inbox rows and the tips).

The service is the one `python -m smonth_reports` runs (its Runtime, faststream subscriber,
EventProcessor and effects), started in this process over its lifespan, as reports' integration
tests start it, with a topic of the round's own standing for the topics it consumes."""

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from unittest import mock

import asyncpg
import orjson
from aiokafka import AIOKafkaConsumer

from bench.context import Context
from bench.data import Event, Events
from bench.report import Figure, at_least_ratio
from bench.stack import JWT_SECRET, create_topic, delete_topics, fresh_database
from smonth_reports import app as reports_app
from smonth_reports.app import MIGRATIONS, build
from smonth_reports.config import ReportsSettings
from smonth_shared.db import create_pool, migrate
from smonth_shared.kafka import KafkaAccess
from smonth_shared.outbox import new_producer

BASELINE_SCHEMA = "bench_projection"
BASELINE_TABLES = """
CREATE TABLE IF NOT EXISTS tips (
    tip_id uuid PRIMARY KEY, campaign text NOT NULL, province text NOT NULL,
    industry text NOT NULL, category text NOT NULL, received_at timestamptz NOT NULL,
    status text NOT NULL DEFAULT 'received', rectified boolean NOT NULL DEFAULT false,
    reward_paid boolean NOT NULL DEFAULT false, named boolean NOT NULL DEFAULT false,
    resolved_at timestamptz);
CREATE INDEX IF NOT EXISTS tips_campaign ON tips (campaign, province);
CREATE TABLE IF NOT EXISTS inbox (consumer text NOT NULL, event_id uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (consumer, event_id));
"""


def tip_events(count: int) -> list[Event]:
    """Eight tips received for two resolved, each resolution after its tip."""
    events = Events(seed=4)
    made = [events.tip_received() for _ in range(max(1, count // 10))]
    while len(made) < count:
        made.append(events.tip_resolved() if events.rng.random() < 0.2 else events.tip_received())
    return made


async def publish(kafka: KafkaAccess, topic: str, events: Sequence[Event]) -> None:
    producer = new_producer(kafka)
    await producer.start()
    try:
        futures = [
            await producer.send(
                topic,
                value=event.value,
                key=event.subject.encode(),
                headers=[("event-type", event.type.encode())],
            )
            for event in events
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


@contextlib.asynccontextmanager
async def reports_on(ctx: Context, dsn: str, topic: str, name: str) -> AsyncIterator[None]:
    settings = ReportsSettings(
        database_url=dsn, **ctx.kafka_settings(),
        safety_month_jwt_secret=JWT_SECRET, service_name=name,
    )  # type: ignore[call-arg]  # fmt: skip
    with mock.patch.object(reports_app, "CONSUMED_TOPICS", (topic,)):
        app = build(settings)
    async with app.router.lifespan_context(app):
        yield


async def projected(ctx: Context, dsn: str, topic: str, count: int) -> float:
    """Events a second from the first event applied to the last."""
    name = f"reports_{uuid.uuid4().hex[:8]}"
    await migrate(dsn, name, MIGRATIONS)
    pool = await create_pool(dsn, name, max_size=2)
    try:
        async with reports_on(ctx, dsn, topic, name):
            started, first = await _first_applied(pool)
            deadline = time.monotonic() + 600
            while (done := await _applied(pool)) < count:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"reports applied {done} of {count} events in 10 minutes")
                await asyncio.sleep(0.02)
            return (count - first) / (time.monotonic() - started)
    finally:
        await pool.close()


async def _applied(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM inbox")


async def _first_applied(pool: asyncpg.Pool) -> tuple[float, int]:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if done := await _applied(pool):
            return time.monotonic(), done
        await asyncio.sleep(0.01)
    raise TimeoutError("reports applied nothing in 2 minutes")


async def raw_projection(ctx: Context, dsn: str, topic: str, count: int) -> float:
    """getmany, then the inbox rows and the tips written with one statement each per batch."""
    conn = await asyncpg.connect(dsn)
    await conn.execute(f"CREATE SCHEMA {BASELINE_SCHEMA}; SET search_path TO {BASELINE_SCHEMA};"
                       + BASELINE_TABLES)  # fmt: skip
    consumer = AIOKafkaConsumer(
        topic, **ctx.kafka.client_options(), group_id=f"bench.{uuid.uuid4().hex[:8]}",
        enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=500,
    )  # fmt: skip
    await consumer.start()
    done, started, first = 0, 0.0, 0
    try:
        while done < count:
            batches = await consumer.getmany(timeout_ms=100, max_records=500)
            records = [record for batch in batches.values() for record in batch]
            if not records:
                continue
            await _write_batch(conn, [orjson.loads(record.value or b"{}") for record in records])
            await consumer.commit()
            done += len(records)
            if not started:
                started, first = time.monotonic(), done
        return (count - first) / (time.monotonic() - started)
    finally:
        await consumer.stop()
        await conn.execute(f"DROP SCHEMA {BASELINE_SCHEMA} CASCADE")
        await conn.close()


async def _write_batch(conn: asyncpg.Connection, events: list[dict]) -> None:
    received = [e for e in events if e["type"] == "tip.received"]
    resolved = [e["data"] for e in events if e["type"] == "tip.resolved"]
    async with conn.transaction():
        await conn.execute(
            "INSERT INTO inbox (consumer, event_id) SELECT 'raw', unnest($1::uuid[])"
            " ON CONFLICT DO NOTHING", [e["id"] for e in events],
        )  # fmt: skip
        await conn.execute(
            "INSERT INTO tips (tip_id, campaign, province, industry, category, received_at, named)"
            " SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[],"
            " $6::timestamptz[], $7::bool[]) ON CONFLICT (tip_id) DO NOTHING",
            [e["data"]["tip_id"] for e in received], [e["campaign"] for e in received],
            [e["data"]["province"] for e in received], [e["data"]["industry"] for e in received],
            [e["data"]["category"] for e in received],
            [_instant(e["data"]["received_at"]) for e in received],
            [e["data"]["named"] for e in received],
        )  # fmt: skip
        await conn.execute(
            "UPDATE tips SET status = r.status, rectified = r.rectified,"
            " reward_paid = r.reward_paid, resolved_at = r.resolved_at"
            " FROM unnest($1::uuid[], $2::text[], $3::bool[], $4::bool[], $5::timestamptz[])"
            " AS r(tip_id, status, rectified, reward_paid, resolved_at)"
            " WHERE tips.tip_id = r.tip_id AND tips.tip_id = ANY($1::uuid[])",
            [d["tip_id"] for d in resolved], [d["status"] for d in resolved],
            [d["rectified"] for d in resolved], [d["reward_paid"] for d in resolved],
            [_instant(d["resolved_at"]) for d in resolved],
        )  # fmt: skip


def _instant(text: str) -> datetime:
    return datetime.fromisoformat(text)


async def run(ctx: Context, figure: Figure) -> None:
    count = ctx.volumes.b4_events
    rate = figure.row(
        f"reports projecting {count:,} tip events", "events/s", target="≥ 0.8× baseline",
        check=at_least_ratio(0.8),
        how="events pre-published on a topic of the round's own; the reports service "
        "(in-process, its own consumer group) from the first event applied to the last; "
        "baseline: aiokafka getmany + the same writes, one statement per batch",
    )  # fmt: skip
    events = await asyncio.to_thread(tip_events, count)
    async with fresh_database(ctx.server_url, "b4") as dsn:
        for round_ in range(ctx.volumes.rounds):
            topic = await create_topic(ctx.kafka, "tips")
            await publish(ctx.kafka, topic, events)
            rate.baseline.append(await raw_projection(ctx, dsn, topic, count))
            rate.samples.append(await projected(ctx, dsn, topic, count))
            await delete_topics(ctx.kafka, topic)
            ctx.log(f"B4 round {round_ + 1}: reports {rate.samples[-1]:,.0f} events/s, "
                    f"raw {rate.baseline[-1]:,.0f} events/s")  # fmt: skip
