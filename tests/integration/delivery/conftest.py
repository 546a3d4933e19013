"""Fixtures of the delivery tests: a throwaway service (schema `things`) on the real servers."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from smonth_shared.db import create_pool, migrate
from smonth_shared.kafka import KafkaAccess
from smonth_shared.outbox import OutboxRelay, new_producer
from tests.integration.delivery.delivery_kit import PARTITIONS, SCHEMA, THINGS_SQL, create_topic


@pytest.fixture
def migrations(tmp_path: Path) -> Path:
    """The throwaway service's own migrations: one table."""
    folder = tmp_path / "migrations"
    folder.mkdir()
    (folder / "001_things.sql").write_text(THINGS_SQL, encoding="utf-8")
    return folder


@pytest.fixture
async def pool(database_url: str, migrations: Path) -> AsyncIterator[asyncpg.Pool]:
    await migrate(database_url, SCHEMA, migrations)
    pool = await create_pool(database_url, SCHEMA, max_size=5)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def topic(kafka: KafkaAccess, unique_topic: str) -> str:
    """A topic of the test's own, with a few partitions so that per-key order means something."""
    await create_topic(kafka, unique_topic, PARTITIONS)
    return unique_topic


@pytest.fixture(scope="session")
async def producer(kafka: KafkaAccess) -> AsyncIterator[AIOKafkaProducer]:
    producer = new_producer(kafka)
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


@pytest.fixture
async def start_relay(
    pool: asyncpg.Pool, database_url: str, kafka: KafkaAccess
) -> AsyncIterator[Callable[..., tuple[OutboxRelay, asyncio.Task[None]]]]:
    """Starts relays of the throwaway service; all are cancelled when the test ends."""
    tasks: list[asyncio.Task[None]] = []

    def start(
        through: KafkaAccess | None = None, **options: float
    ) -> tuple[OutboxRelay, asyncio.Task[None]]:
        relay = OutboxRelay(
            pool, dsn=database_url, schema=SCHEMA, kafka=through or kafka,
            poll_interval=options.pop("poll_interval", 0.1), **options,  # type: ignore[arg-type]
        )  # fmt: skip
        tasks.append(asyncio.create_task(relay.run()))
        return relay, tasks[-1]

    yield start
    for task in tasks:
        task.cancel()
    for task in tasks:
        with contextlib.suppress(asyncio.CancelledError):
            await task


@pytest.fixture(scope="session")
def session_spans() -> Iterator[InMemorySpanExporter]:
    """One tracer provider per process (OpenTelemetry allows setting it once): ours, unless
    something already installed an SDK provider, to which the exporter is added."""
    exporter = InMemorySpanExporter()
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    yield exporter
    exporter.shutdown()


@pytest.fixture
def spans(session_spans: InMemorySpanExporter) -> InMemorySpanExporter:
    session_spans.clear()
    return session_spans
