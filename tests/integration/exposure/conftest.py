"""A harness for exposure's integration tests: its tables in a fresh database, the real service
started over its lifespan (HTTP through ASGI, its consumer on a topic of the test's own, its
relay on the real broker), and the ways a test drives and inspects it."""

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, TypeVar
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from smonth_exposure import app as exposure_app
from smonth_exposure import handlers
from smonth_exposure.app import MIGRATIONS, build
from smonth_exposure.config import ExposureSettings
from smonth_shared.auth import Role, issue_token
from smonth_shared.campaign import load_campaign
from smonth_shared.clock import SimulatedClock
from smonth_shared.db import create_pool, migrate
from smonth_shared.events import CaseReported, Envelope, Topic, new_event
from smonth_shared.kafka import KafkaAccess
from smonth_shared.outbox import Outbox, new_producer
from smonth_shared.settings import kafka_settings
from smonth_shared.topics import ensure_topics
from tests import polling

SHANGHAI = ZoneInfo("Asia/Shanghai")
MID_JUNE = datetime(2021, 6, 15, 10, 0, tzinfo=SHANGHAI)
T = TypeVar("T")


@dataclass
class Exposure:
    """Drives one exposure service: reports cases to it, calls its API, reads its outbox."""

    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    topic: str
    secret: str
    settings: dict[str, Any]
    deps: handlers.Deps
    client: httpx.AsyncClient | None = None

    @contextlib.asynccontextmanager
    async def running(self, clock_start: datetime = MID_JUNE) -> AsyncIterator[None]:
        """The service, started as `python -m smonth_exposure` would, its clock at `clock_start`."""
        app = build(ExposureSettings(**self.settings, clock_start=clock_start))
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://exposure") as client,
        ):
            self.client = client
            # Tests start once it would answer ready: broker connected, consumer subscribed.
            await self.eventually(lambda: _ready(client))
            try:
                yield
            finally:
                self.client = None

    @staticmethod
    def case(
        province: str = "44", published_on: date = date(2021, 6, 10), *, campaign: str = "2021",
        case_id: UUID | None = None,
    ) -> Envelope:  # fmt: skip
        payload = CaseReported(
            case_id=case_id or uuid4(), province=province, title="某化工企业违规动火作业",
            industry="hazardous_chemicals", enterprise="某化工有限公司",
            summary="未办理动火作业票证即进行动火作业。", media_outlet="南方日报",
            published_on=published_on, url="https://example.cn/case",
        )  # fmt: skip
        return new_event(payload, source="intake", time=MID_JUNE, campaign=campaign,
                         subject=province)  # fmt: skip

    async def record(self, *events: Envelope) -> None:
        """Apply events as the consumer does, each in its own transaction, without the broker."""
        effects = handlers.effects(self.deps)
        for event in events:
            async with self.pool.acquire() as conn, conn.transaction():
                await effects[event.type](conn, event)

    async def send(self, *events: Envelope) -> None:
        """Publish events on the service's case topic, as intake would."""
        for event in events:
            await self.producer.send_and_wait(
                self.topic, value=event.to_bytes(), key=event.subject.encode()
            )

    async def events(self, event_type: str) -> list[Envelope]:
        """What the service announced through its outbox, oldest first."""
        rows = await self.pool.fetch(
            "SELECT value FROM outbox WHERE event_type = $1 ORDER BY seq", event_type
        )
        return [Envelope.from_bytes(bytes(row["value"])) for row in rows]

    async def processed(self, event_id: UUID) -> bool:
        return bool(await self.pool.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1",
                                             event_id))  # fmt: skip

    def auth(self, role: Role = "staff", unit: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(self.secret, role=role, unit=unit)}"}

    async def get(
        self, path: str, *, role: Role = "staff", unit: str | None = None, **params: str
    ) -> httpx.Response:
        assert self.client is not None, "start the service first: async with exposure.running()"
        return await self.client.get(path, params=params, headers=self.auth(role, unit))

    async def reject(
        self, case_id: UUID, reason: str = "未在省级主流媒体发布", *, role: Role = "staff",
        unit: str | None = None, key: str | None = None,
    ) -> httpx.Response:  # fmt: skip
        assert self.client is not None, "start the service first: async with exposure.running()"
        headers = self.auth(role, unit) | ({"Idempotency-Key": key} if key else {})
        return await self.client.post(
            f"/v1/cases/{case_id}/rejection", json={"reason": reason}, headers=headers
        )

    async def cell(self, province: str, month: str) -> dict[str, Any]:
        """One province-month of the compliance matrix, as staff see it."""
        answer = await self.get("/v1/compliance")
        assert answer.status_code == 200, answer.text
        row = next(p for p in answer.json()["provinces"] if p["province"] == province)
        return row["months"][month]

    @staticmethod
    async def eventually(probe: Callable[[], Awaitable[T]], *, within: float = 30.0) -> T:
        """The first truthy answer of `probe`, polled for up to `within` seconds."""
        return await polling.eventually(probe, within=within)


async def _ready(client: httpx.AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


@pytest.fixture
async def exposure(
    database_url: str, kafka: KafkaAccess, jwt_secret: str, unique_topic: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Exposure]:  # fmt: skip
    """exposure's tables in a fresh database, and its case topic one of this test's own, so
    that no other test's cases reach it; not started yet."""
    await migrate(database_url, "exposure", MIGRATIONS)
    await ensure_topics(kafka, (Topic(name=unique_topic, partitions=1),))
    monkeypatch.setattr(exposure_app, "CASE", Topic(name=unique_topic))
    deps = handlers.Deps(
        campaign=load_campaign("2021"), clock=SimulatedClock(MID_JUNE, speed=1.0),
        outbox=Outbox("exposure"),
    )  # fmt: skip
    settings = {"database_url": database_url, **kafka_settings(kafka),
                "safety_month_jwt_secret": jwt_secret}  # fmt: skip
    pool = await create_pool(database_url, "exposure")
    producer = new_producer(kafka)
    await producer.start()
    try:
        yield Exposure(pool, producer, unique_topic, jwt_secret, settings, deps)
    finally:
        await producer.stop()
        await pool.close()


@pytest.fixture
async def service(exposure: Exposure) -> AsyncIterator[Exposure]:
    """The same, started in mid-June 2021: no month closes while the test runs."""
    async with exposure.running(MID_JUNE):
        yield exposure
