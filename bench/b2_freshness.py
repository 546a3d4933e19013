"""B2: freshness, from `POST /v1/tips` answered to the tip counted in `GET /v1/national-summary`, at
a steady rate; against the raw hops at the same rate: an asyncpg INSERT, then an aiokafka send
received by an aiokafka consumer on the same broker.

The summary is polled back to back; the k-th tip answered counts as visible at the end of the
first poll whose count reached k (tips are counted, not named, in the summary), so a tip's
freshness includes the poll that showed it, as a person reloading the page would see it."""

import asyncio
import contextlib
import time
import uuid

import asyncpg
from aiokafka import AIOKafkaConsumer

from bench.context import Context
from bench.data import Tips
from bench.load import ConnectionPool, open_loop, percentile
from bench.month import MonthSystem, shown
from bench.report import Figure, at_most
from bench.stack import create_topic, delete_topics, fresh_database
from smonth_shared.outbox import new_producer
from smonth_shared.topics import topic_partitions


async def freshness(month: MonthSystem, rate: float, seconds: float, seed: int) -> list[float]:
    system = await month.start()
    reports = ConnectionPool(system.ports["reports"], limit=1)
    intake = ConnectionPool(system.ports["intake"])
    before = shown(await month.summary(reports))["tips"]
    polls: list[tuple[float, int]] = []
    stop, caught_up = asyncio.Event(), asyncio.Event()
    target: list[int] = []  # the tips answered, once the load is over

    async def poll() -> None:
        while not stop.is_set():
            count = shown(await month.summary(reports))["tips"] - before
            polls.append((time.monotonic(), count))
            if target and count >= target[0]:
                caught_up.set()
            await asyncio.sleep(0.005)

    poller = asyncio.create_task(poll())
    tips = Tips(seed)
    outcome = await open_loop(intake, lambda _i: ("POST", "/v1/tips", tips.encoded(), {}),
                              rate=rate, seconds=seconds)  # fmt: skip
    answered = sorted(outcome.answered_at)
    target.append(len(answered))
    with contextlib.suppress(TimeoutError):  # a tip never shown is left out of the figure
        await asyncio.wait_for(caught_up.wait(), 60)
    stop.set()
    await poller
    reports.close()
    intake.close()
    latencies = []
    index = 0
    for k, at in enumerate(answered, start=1):
        while index < len(polls) and polls[index][1] < k:
            index += 1
        if index == len(polls):
            break
        latencies.append(max(0.0, polls[index][0] - at))
    return latencies


async def _database_now(month: MonthSystem) -> object:
    assert month.system is not None
    conn = await asyncpg.connect(month.system.database_url)
    try:
        return await conn.fetchval("SELECT clock_timestamp()")
    finally:
        await conn.close()


HOPS = """
SELECT percentile_cont(ARRAY[0.5, 0.99]) WITHIN GROUP (ORDER BY
         extract(epoch FROM i.processed_at - o.created_at) * 1000) AS applied
FROM intake.outbox o JOIN reports.inbox i ON i.event_id = o.event_id AND i.consumer = 'reports'
WHERE o.created_at >= $1 AND o.event_type = 'tip.received'
"""


async def hop_by_hop(month: MonthSystem, since: object) -> dict[str, float]:
    """From the database's own clock: the intake transaction's start to the start of reports'
    transaction applying the tip (relay, broker and consumer together; the relay keeps no time
    of its sends: it only takes them off its queue)."""
    assert month.system is not None
    conn = await asyncpg.connect(month.system.database_url)
    try:
        row = await conn.fetchrow(HOPS, since)
    finally:
        await conn.close()
    applied = row["applied"] or [0, 0]
    return {"outbox_to_applied_p50": round(applied[0], 1),
            "outbox_to_applied_p99": round(applied[1], 1)}  # fmt: skip


async def raw_hops(ctx: Context, rate: float, seconds: float) -> list[float]:
    """INSERT, then send; the latency is from before the INSERT to the consumer's receipt."""
    topic = await create_topic(ctx.kafka, "fresh")
    producer = new_producer(ctx.kafka)
    consumer = AIOKafkaConsumer(**ctx.kafka.client_options(), enable_auto_commit=False,
                                group_id=None)  # fmt: skip
    await producer.start()
    await consumer.start()
    partitions = await topic_partitions(ctx.kafka, (topic,))
    consumer.assign(partitions)
    await consumer.seek_to_end(*partitions)
    for partition in partitions:
        await consumer.position(partition)
    count = max(1, round(rate * seconds))
    sent: dict[int, float] = {}
    latencies: list[float] = []
    tips = Tips(7)

    async def receive() -> None:
        while len(latencies) < count:
            batches = await consumer.getmany(timeout_ms=100)
            now = time.monotonic()
            for records in batches.values():
                latencies.extend(now - sent[int(record.key or b"0")] for record in records)

    async with fresh_database(ctx.server_url, "b2") as dsn:
        conn = await asyncpg.connect(dsn)
        await conn.execute("CREATE TABLE tips (id uuid PRIMARY KEY, body bytea NOT NULL)")
        receiver = asyncio.create_task(receive())
        try:
            start = time.monotonic()
            for index in range(count):
                delay = start + index / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                body = tips.encoded()
                sent[index] = time.monotonic()
                await conn.execute(
                    "INSERT INTO tips (id, body) VALUES ($1, $2)", uuid.uuid4(), body
                )
                await producer.send(topic, value=body, key=str(index).encode())
            await asyncio.wait_for(receiver, 30)
        finally:
            receiver.cancel()
            await conn.close()
            await producer.stop()
            await consumer.stop()
            await delete_topics(ctx.kafka, topic)
    return latencies


async def run(ctx: Context, figure: Figure, month: MonthSystem) -> None:
    volumes = ctx.volumes
    how = (f"open loop at {volumes.b2_rate:.0f} tips/s for {volumes.b2_seconds:.0f} s; the "
           "summary polled back to back; baseline: asyncpg INSERT then aiokafka send→receive "
           "at the same rate")  # fmt: skip
    p50 = figure.row("freshness p50", "ms", target="≤ 30 ms", check=at_most(30), how=how)
    p99 = figure.row(
        "freshness p99", "ms", target="< 1000 ms and ≤ 3× baseline",
        check=lambda median, ratio: median < 1000 and ratio is not None and ratio <= 3, how=how,
    )  # fmt: skip
    await month.start()
    poll = []
    hops: list[dict[str, float]] = []
    for round_ in range(volumes.rounds):
        raw = await raw_hops(ctx, volumes.b2_rate, volumes.b2_seconds)
        since = await _database_now(month)
        real = await freshness(month, volumes.b2_rate, volumes.b2_seconds, seed=100 + round_)
        hops.append(await hop_by_hop(month, since))
        p50.baseline.append(percentile(raw, 0.5) * 1000)
        p99.baseline.append(percentile(raw, 0.99) * 1000)
        p50.samples.append(percentile(real, 0.5) * 1000)
        p99.samples.append(percentile(real, 0.99) * 1000)
        poll.append(len(real))
        ctx.log(f"B2 round {round_ + 1}: p50 {p50.samples[-1]:.0f} ms, p99 "
                f"{p99.samples[-1]:.0f} ms; raw p99 {p99.baseline[-1]:.1f} ms")  # fmt: skip
    figure.notes["tips_measured_per_round"] = poll
    figure.notes["hops_ms"] = hops
