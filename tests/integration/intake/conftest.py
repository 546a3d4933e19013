"""intake as it runs: `build(settings)` on a fresh database, the real broker, a simulated clock.

Each test gets its own database and its own inbound topic and consumer group, so that no test
sees another's rows or envelopes; the outbound topics are the contract's, shared, and read from
the offsets a test recorded before it acted.
"""

import asyncio
import contextlib
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from cryptography.fernet import Fernet
from fastapi import FastAPI

from smonth_intake.app import MIGRATIONS, build
from smonth_intake.config import IntakeSettings
from smonth_shared.auth import Role, issue_token
from smonth_shared.db import migrate
from smonth_shared.kafka import KafkaAccess
from smonth_shared.outbox import pending_count
from smonth_shared.settings import kafka_settings
from smonth_shared.topics import ensure_topics
from tests import polling
from tests.integration.notify.notify_support import Mailbox

SHANGHAI = timezone(timedelta(hours=8))
DURING_THE_MONTH = datetime(2021, 6, 20, 10, 0, tzinfo=SHANGHAI)


@dataclass
class Intake:
    app: FastAPI
    client: httpx.AsyncClient
    settings: IntakeSettings
    secret: str

    def token(self, role: Role, unit: str | None = None, *, expired: bool = False) -> str:
        issued = datetime.now(UTC) - (timedelta(hours=2) if expired else timedelta())
        return issue_token(self.secret, role=role, unit=unit, now=issued, ttl=timedelta(hours=1))

    def auth(self, role: Role, unit: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, unit)}"}

    def vouched(
        self, system: str, units: list[str], *, secret: str | None = None,
        issued: datetime | None = None,
    ) -> list[tuple[str, bytes]]:  # fmt: skip
        """The record headers a registered ministry system sends with its envelopes."""
        token = issue_token(secret or self.secret, role="system", sub=f"client:{system}",
                            units=units, ttl=timedelta(minutes=15), now=issued)  # fmt: skip
        return [("authorization", f"Bearer {token}".encode())]

    async def rows(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(
            self.settings.database_url, server_settings={"search_path": "intake"}
        )
        try:
            return await conn.fetch(sql, *args)
        finally:
            await conn.close()

    async def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """The envelopes in the outbox, oldest first (what the relay publishes)."""
        rows = await self.rows("SELECT value FROM outbox ORDER BY seq")
        envelopes = [json.loads(row["value"]) for row in rows]
        return [e for e in envelopes if event_type is None or e["type"] == event_type]

    async def published(self) -> None:
        """Waits until the relay has published every outbox row."""
        pool = await asyncpg.create_pool(
            self.settings.database_url, min_size=1, max_size=1,
            server_settings={"search_path": "intake"},
        )  # fmt: skip
        assert pool is not None
        try:
            await eventually(lambda: _none_pending(pool))
        finally:
            await pool.close()


async def _none_pending(pool: asyncpg.Pool) -> bool:
    return not await pending_count(pool)


async def eventually(check: Callable[[], Awaitable[Any]], seconds: float = 30) -> Any:
    """The first truthy answer of `check`, asked again and again: what it watches (a table, a
    topic) changes in other tasks and processes, which have no event to wait for."""
    return await polling.eventually(check, within=seconds, interval=0.02)


@pytest.fixture
def until() -> Callable[..., Awaitable[Any]]:
    """`eventually` for the tests (a test module cannot import this conftest)."""
    return eventually


@pytest.fixture(scope="session")
async def contract_topics(kafka: KafkaAccess) -> KafkaAccess:
    await ensure_topics(kafka)
    return kafka


async def _new_topic(kafka: KafkaAccess) -> str:
    name = f"test.inbound.{uuid.uuid4().hex[:12]}"
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=2, replication_factor=1)])
    finally:
        await admin.close()
    return name


@pytest.fixture(scope="session")
async def redriven_topic(contract_topics: KafkaAccess) -> str:
    """Where the tests' intakes read re-driven envelopes: a topic nothing writes, so that they
    do not apply what the redrive tests send on the real one (those tests choose it)."""
    return await _new_topic(contract_topics)


@pytest.fixture
async def inbound_topic(contract_topics: KafkaAccess) -> str:
    """An inbound topic of this test's own, so that only this test's intake reads it."""
    return await _new_topic(contract_topics)


@pytest.fixture
async def migrated(database_url: str) -> str:
    await migrate(database_url, "intake", MIGRATIONS)
    return database_url


StartIntake = Callable[..., contextlib.AbstractAsyncContextManager[Intake]]


@pytest.fixture
def start_intake(
    migrated: str, contract_topics: KafkaAccess, inbound_topic: str, redriven_topic: str,
    jwt_secret: str, tmp_path: Path,
) -> StartIntake:  # fmt: skip
    """Starts intake on this test's database; `clock_start` and other settings can be given."""
    key = Fernet.generate_key().decode()
    consumer = f"intake-test-{uuid.uuid4().hex[:8]}"

    def start(**overrides: Any) -> contextlib.AbstractAsyncContextManager[Intake]:
        return running(IntakeSettings(**{
            "database_url": migrated, **kafka_settings(contract_topics),
            "safety_month_jwt_secret": jwt_secret, "tip_contact_key": key,
            "blob_dir": tmp_path / "blobs", "clock_start": DURING_THE_MONTH,
            "inbound_topic": inbound_topic, "inbound_consumer": consumer,
            "inbound_redriven_topic": redriven_topic, **overrides,
        }))  # fmt: skip

    return start


@contextlib.asynccontextmanager
async def running(settings: IntakeSettings) -> AsyncIterator[Intake]:
    app = build(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app)
        async with httpx.AsyncClient(transport=transport, base_url="http://intake") as client:
            await _ready(client)
            yield Intake(app, client, settings, settings.safety_month_jwt_secret)


@pytest.fixture(scope="module")
async def module_intake(
    module_database_url: str,
    contract_topics: KafkaAccess,
    module_mailbox: Mailbox,
    tmp_path_factory: pytest.TempPathFactory,
    redriven_topic: str,
) -> AsyncIterator[Intake]:
    """One intake for a whole module of tests that do not disturb each other (no rate limit)."""
    await migrate(module_database_url, "intake", MIGRATIONS)
    settings = IntakeSettings(
        database_url=module_database_url, **kafka_settings(contract_topics),
        safety_month_jwt_secret=f"module-secret-{uuid.uuid4().hex}",
        tip_contact_key=Fernet.generate_key().decode(),
        blob_dir=tmp_path_factory.mktemp("blobs"), clock_start=DURING_THE_MONTH,
        inbound_topic=await _new_topic(contract_topics), inbound_redriven_topic=redriven_topic,
        inbound_consumer=f"intake-test-{uuid.uuid4().hex[:8]}", tip_rate_per_minute=100_000,
        smtp_host=module_mailbox.host, smtp_port=module_mailbox.port,
    )  # fmt: skip
    async with running(settings) as intake:
        yield intake


async def _ready(client: httpx.AsyncClient) -> None:
    """Until /readyz says so: stopping a service halfway through its connecting leaks sockets."""

    async def ready() -> bool:
        return (await client.get("/readyz")).status_code == 200

    await eventually(ready)


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where the page tests' screenshots go: SMONTH_SCREENSHOTS (CI keeps it), else the test's
    own folder."""
    folder = Path(os.environ.get("SMONTH_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
async def intake(start_intake: StartIntake) -> AsyncIterator[Intake]:
    async with start_intake() as running:
        yield running


@pytest.fixture
async def producer(contract_topics: KafkaAccess) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(**contract_topics.client_options())
    await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


class TopicTap:
    """Every message written to a set of topics after the moment it was opened."""

    def __init__(self, kafka: KafkaAccess, topics: list[str]) -> None:
        self.kafka = kafka
        self.topics = topics
        self.start: dict[TopicPartition, int] = {}

    async def open(self) -> "TopicTap":
        self.start = await self._end_offsets()
        return self

    async def read(self) -> list[Any]:
        """The messages since `open`, up to the end offsets as they are now."""
        end = await self._end_offsets()
        wanted = {tp: (self.start.get(tp, 0), offset) for tp, offset in end.items()}
        wanted = {tp: span for tp, span in wanted.items() if span[1] > span[0]}
        if not wanted:
            return []
        consumer = AIOKafkaConsumer(**self.kafka.client_options(), enable_auto_commit=False)
        await consumer.start()
        try:
            consumer.assign(list(wanted))
            for tp, (first, _) in wanted.items():
                consumer.seek(tp, first)
            records: list[Any] = []
            async with asyncio.timeout(30):
                while await _behind(consumer, {tp: last for tp, (_, last) in wanted.items()}):
                    batch = await consumer.getmany(timeout_ms=500)
                    for tp, items in batch.items():
                        records += [r for r in items if r.offset < wanted[tp][1]]
            return records
        finally:
            await consumer.stop()

    async def _end_offsets(self) -> dict[TopicPartition, int]:
        admin = AIOKafkaAdminClient(**self.kafka.client_options())
        await admin.start()
        try:
            described = await admin.describe_topics(self.topics)
        finally:
            await admin.close()
        partitions = [
            TopicPartition(topic["topic"], partition["partition"])
            for topic in described
            for partition in topic["partitions"]
        ]
        consumer = AIOKafkaConsumer(**self.kafka.client_options(), enable_auto_commit=False)
        await consumer.start()
        try:
            return await consumer.end_offsets(partitions)
        finally:
            await consumer.stop()


async def _behind(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return True
    return False


@pytest.fixture
def tap(contract_topics: KafkaAccess) -> Callable[[list[str]], TopicTap]:
    return lambda topics: TopicTap(contract_topics, topics)


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    with Mailbox.serving() as mailbox:
        yield mailbox


@pytest.fixture(scope="module")
def module_mailbox() -> Iterator[Mailbox]:
    """The mail server of `module_intake`."""
    with Mailbox.serving() as mailbox:
        yield mailbox
