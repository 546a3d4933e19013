"""What an operator alerts on, in Prometheus' conventions, on every service's `/metrics` (the HTTP
requests' own are in smonth_shared.measure). Dead letters and inbox duplicates are counted where
they happen; the outbox's backlog, the consumers' lag and readiness are read at each scrape."""

import asyncio
from collections.abc import Awaitable, Callable, Mapping

import asyncpg
from aiokafka import AIOKafkaConsumer
from prometheus_client import Counter, Gauge

from smonth_shared.outbox import TRANSIENT_ERRORS

DEAD_LETTERS = Counter(
    "smonth_dead_letters_total", "Messages a service sent to the dead-letter topic",
    ["service", "topic"],
)  # fmt: skip
INBOX_DUPLICATES = Counter(
    "smonth_inbox_duplicates_total",
    "Events a consumer dropped because its inbox had taken effect of them before",
    ["consumer"],
)
OUTBOX_BACKLOG = Gauge(
    "smonth_outbox_backlog_rows", "Outbox rows not yet published (parked rows apart)", ["service"]
)
OUTBOX_OLDEST = Gauge(
    "smonth_outbox_oldest_age_seconds",
    "Age of the oldest outbox row not yet published (0 when none waits)", ["service"],
)  # fmt: skip
OUTBOX_PARKED = Gauge(
    "smonth_outbox_parked_rows", "Outbox rows the broker refused, waiting for an operator",
    ["service"],
)  # fmt: skip
CONSUMER_LAG = Gauge(
    "smonth_consumer_lag",
    "Records on a partition not yet handed to the consumer group (log end minus position)",
    ["group", "topic", "partition"],
)
READY = Gauge("smonth_ready", "1 while every check of the service's /readyz passes", ["service"])

SCRAPE_STEP_SECONDS = 2.0

# A service's own reading of its database at a scrape (notify's reminders by status).
Reading = Callable[[asyncpg.Pool], Awaitable[None]]


async def read_at_scrape(reading: Reading, pool: asyncpg.Pool) -> None:
    """Its gauges as the database has them now; left as last read when the database is away."""
    try:
        async with asyncio.timeout(SCRAPE_STEP_SECONDS):
            await reading(pool)
    except (*TRANSIENT_ERRORS, TimeoutError):
        return


async def observe_outbox(pool: asyncpg.Pool, service: str) -> None:
    """The backlog as the database has it now; left as last read when the database is away
    (readiness, scraped with it, says so)."""
    try:
        async with asyncio.timeout(SCRAPE_STEP_SECONDS):
            row = await pool.fetchrow(
                "SELECT (SELECT count(*) FROM outbox_pending) AS pending,"
                " (SELECT count(*) FROM outbox WHERE parked_reason IS NOT NULL) AS parked,"
                " coalesce((SELECT extract(epoch FROM now() - created_at) FROM outbox"
                "   WHERE seq = (SELECT min(seq) FROM outbox_pending)), 0)::float8 AS oldest"
            )
    except (*TRANSIENT_ERRORS, TimeoutError):
        return
    assert row is not None
    OUTBOX_BACKLOG.labels(service).set(row["pending"])
    OUTBOX_PARKED.labels(service).set(row["parked"])
    OUTBOX_OLDEST.labels(service).set(row["oldest"])


async def observe_lag(consumers: Mapping[str, AIOKafkaConsumer]) -> None:
    """Each group's lag on the partitions assigned to it now, from what the consumer last
    fetched: no request to the broker. A partition moved to another replica leaves the gauge."""
    lags: dict[tuple[str, str, str], int] = {}
    for group, consumer in consumers.items():
        for partition in consumer.assignment():
            end = consumer.highwater(partition)
            if end is None:
                continue  # nothing fetched from it yet
            try:
                position = await consumer.position(partition)
            except Exception:  # noqa: S112 - revoked meanwhile: another replica reports it
                continue
            lags[group, partition.topic, str(partition.partition)] = max(end - position, 0)
    CONSUMER_LAG.clear()
    for labels, lag in lags.items():
        CONSUMER_LAG.labels(*labels).set(lag)
