"""A harness for reports' integration tests: its tables in a fresh database, the real service
started over its lifespan (HTTP through ASGI, its consumer on a topic of the test's own that
carries every event type, its relay on the real broker), and the events a test feeds it."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal, TypeVar
from uuid import uuid4
from zoneinfo import ZoneInfo

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI

from smonth_reports import app as reports_app
from smonth_reports.app import MIGRATIONS, build
from smonth_reports.config import ReportsSettings
from smonth_reports.handlers import EFFECTS
from smonth_shared.auth import Role, issue_token
from smonth_shared.db import create_pool, migrate
from smonth_shared.events import (
    CaseRejected,
    CaseReported,
    Envelope,
    LiaisonDesignated,
    MaterialSubmitted,
    MonthAssessed,
    Payload,
    ProgressReported,
    ReminderOutcome,
    SummarySubmitted,
    TipReceived,
    TipResolved,
    Topic,
    new_event,
)
from smonth_shared.kafka import KafkaAccess
from smonth_shared.outbox import new_producer
from smonth_shared.settings import kafka_settings
from smonth_shared.topics import ensure_topics
from tests import polling

SHANGHAI = ZoneInfo("Asia/Shanghai")
MID_JUNE = datetime(2021, 6, 16, 10, 0, tzinfo=SHANGHAI)
AFTER_DEADLINE = datetime(2021, 7, 6, 10, 0, tzinfo=SHANGHAI)
T = TypeVar("T")


@dataclass
class Reports:
    """Drives one reports service: feeds it events, reads its summary, inspects its tables."""

    pool: asyncpg.Pool
    producer: AIOKafkaProducer
    topic: str
    secret: str
    settings: dict[str, Any]
    client: httpx.AsyncClient | None = None
    app: FastAPI | None = None
    sent: list[Envelope] = field(default_factory=list)

    def service_settings(
        self, clock_start: datetime = AFTER_DEADLINE, speed: float = 1e-6
    ) -> ReportsSettings:
        return ReportsSettings(**self.settings, clock_start=clock_start, clock_speed=speed)

    @contextlib.asynccontextmanager
    async def running(
        self, clock_start: datetime = AFTER_DEADLINE, speed: float = 1e-6
    ) -> AsyncIterator[httpx.AsyncClient]:
        """The service as `python -m smonth_reports` runs it; by default its clock all but stands
        still at `clock_start`, so that two summaries taken apart agree on their `as_of`."""
        app = build(self.service_settings(clock_start, speed))
        transport = httpx.ASGITransport(app=app)
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=transport, base_url="http://reports") as client,
        ):
            self.client, self.app = client, app
            await self.eventually(lambda: _ready(client))
            try:
                yield client
            finally:
                self.client = self.app = None

    async def schedule_caught_up(self) -> None:
        """Until the running service has published every moment due by its clock."""
        assert self.app is not None, "start the service first: async with reports.running()"
        async with asyncio.timeout(60):
            await self.app.state.publisher.caught_up.wait()

    async def record(self, *events: Envelope) -> None:
        """Apply events as the consumer does, each in its own transaction, without the broker."""
        for event in events:
            async with self.pool.acquire() as conn, conn.transaction():
                await EFFECTS[event.type](conn, event)

    async def send(self, *events: Envelope) -> None:
        """Publish events on the service's topic, as intake, exposure and notify would."""
        for event in events:
            await self.producer.send_and_wait(
                self.topic, value=event.to_bytes(), key=event.subject.encode()
            )
            self.sent.append(event)

    async def processed(self) -> int:
        return await self.pool.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = $1", self.settings["service_name"]
        )

    def auth(self, role: Role = "staff", unit: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(self.secret, role=role, unit=unit)}"}

    async def get(
        self, path: str, *, role: Role = "staff", unit: str | None = None, **params: Any
    ) -> httpx.Response:
        assert self.client is not None, "start the service first: async with reports.running()"
        return await self.client.get(path, params=params, headers=self.auth(role, unit))

    async def summary(self, **params: Any) -> dict[str, Any]:
        answer = await self.get("/v1/national-summary", **params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    @staticmethod
    async def eventually(probe: Callable[[], Awaitable[T]], *, within: float = 30.0) -> T:
        """The first truthy answer of `probe`, polled for up to `within` seconds."""
        return await polling.eventually(probe, within=within)

    # --- the events the other services announce -----------------------------------------------

    @staticmethod
    def event(payload: Payload, subject: str, at: datetime = MID_JUNE, **kwargs: Any) -> Envelope:
        return new_event(payload, source="intake", time=at, campaign="2021", subject=subject,
                         **kwargs)  # fmt: skip

    def progress(self, unit: str, as_of: date, revision: int = 1, **figures: int) -> Envelope:
        payload = ProgressReported(submission_id=uuid4(), unit=unit, as_of=as_of,
                                   revision=revision, indicators=figures)  # fmt: skip
        return self.event(payload, unit)

    def summary_report(self, unit: str, at: datetime, *, on_time: bool) -> Envelope:
        payload = SummarySubmitted(report_id=uuid4(), unit=unit, title=f"{unit}活动总结",
                                   body="……", received_at=at, on_time=on_time,
                                   first_received_at=at)  # fmt: skip
        return self.event(payload, unit, at)

    def liaison(self, unit: str, name: str = "李辉") -> Envelope:
        payload = LiaisonDesignated(unit=unit, name=name, position="处长",
                                    office_phone="010-64463407", mobile="13800000000",
                                    email="anquanyue@example.cn", designated_at=MID_JUNE)  # fmt: skip
        return self.event(payload, unit)

    def material(self, unit: str, kind: Literal["practice", "video", "picture"]) -> Envelope:
        payload = MaterialSubmitted(material_id=uuid4(), unit=unit, kind=kind, title="做法",
                                    description="……")  # fmt: skip
        return self.event(payload, unit)

    def case(self, province: str) -> Envelope:
        payload = CaseReported(case_id=uuid4(), province=province, title="违规动火作业",
                               industry="hazardous_chemicals", enterprise="某化工有限公司",
                               summary="……", media_outlet="南方日报",
                               published_on=date(2021, 6, 10), url="https://example.cn/case")  # fmt: skip
        return self.event(payload, province)

    def rejection(self, case: Envelope) -> Envelope:
        payload = CaseRejected(case_id=case.data["case_id"], province=case.subject,
                               reason="非省级主流媒体", rejected_by="staff")  # fmt: skip
        return self.event(payload, case.subject)

    def assessment(
        self, province: str, month: str, cases: int, status: Literal["met", "unmet", "missed"],
        *, closed: bool, at: datetime = MID_JUNE,
    ) -> Envelope:  # fmt: skip
        payload = MonthAssessed(province=province, month=month, cases_counted=cases, quota=1,
                                status=status, closed=closed)  # fmt: skip
        return self.event(payload, province, at)

    def tip(self, province: str, industry: Any = "mining", at: datetime = MID_JUNE) -> Envelope:
        payload = TipReceived(tip_id=uuid4(), province=province, industry=industry,
                              category="major_hazard", description="……", received_at=at,
                              named=True)  # fmt: skip
        return self.event(payload, province, at)

    def resolution(self, tip: Envelope, status: Literal["verified", "unfounded"]) -> Envelope:
        payload = TipResolved(tip_id=tip.data["tip_id"], province=tip.subject,
                              industry=tip.data["industry"], status=status,
                              rectified=status == "verified", reward_paid=False,
                              resolved_at=AFTER_DEADLINE)  # fmt: skip
        return self.event(payload, tip.subject)

    def reminder(self, unit: str, outcome: Literal["sent", "failed"]) -> Envelope:
        payload = ReminderOutcome(reminder_id=uuid4(), unit=unit, reason="summary_due",
                                  occasion="before", channel="email", recipient="l@example.cn",
                                  attempts=1, error=None if outcome == "sent" else "550")  # fmt: skip
        return self.event(payload, unit, event_type=f"reminder.{outcome}")

    def a_campaign_in_brief(self) -> list[Envelope]:
        """Some of everything: snapshots superseded out of order, summaries on time and late, a
        rejected case, resolved tips, assessments, reminders sent and failed."""
        tips = [self.tip("44", "mining"), self.tip("44", "road_traffic"), self.tip("11")]
        case = self.case("44")
        return [
            self.progress("44", date(2021, 6, 30), study_participants=19_000_000, drills=10),
            self.progress("44", date(2021, 6, 20), study_participants=5, drills=5),
            self.progress("M01", date(2021, 6, 30), 2, study_participants=340_000),
            self.progress("M01", date(2021, 6, 30), 1, study_participants=1),
            self.progress("E001", date(2021, 7, 1), drills=7),
            self.liaison("44"), self.liaison("M01"),
            self.summary_report("44", datetime(2021, 7, 5, 18, tzinfo=SHANGHAI), on_time=True),
            self.summary_report("M01", datetime(2021, 7, 6, 8, tzinfo=SHANGHAI), on_time=False),
            self.material("44", "video"), self.material("E001", "practice"),
            case, self.rejection(case), self.case("11"),
            self.assessment("44", "2021-06", 1, "met", closed=True),
            self.assessment("11", "2021-06", 0, "missed", closed=True),
            *tips, self.resolution(tips[0], "verified"), self.resolution(tips[1], "unfounded"),
            self.reminder("M01", "sent"), self.reminder("E001", "failed"),
        ]  # fmt: skip


async def _ready(client: httpx.AsyncClient) -> bool:
    answer = await client.get("/readyz")
    return answer.status_code == 200


@pytest.fixture
async def reports(
    database_url: str, kafka: KafkaAccess, jwt_secret: str, unique_topic: str,
    monkeypatch: pytest.MonkeyPatch,
) -> AsyncIterator[Reports]:  # fmt: skip
    """reports' tables in a fresh database, and one topic of this test's own standing for every
    topic it consumes, so that no other test's events reach it; not started yet. The service
    has a name of its own too (its schema and consumer group): a test never waits for the group
    to forget a consumer of the test before."""
    name = f"reports_{uuid4().hex[:8]}"
    await migrate(database_url, name, MIGRATIONS)
    await ensure_topics(kafka, (Topic(name=unique_topic, partitions=3),))
    monkeypatch.setattr(reports_app, "CONSUMED_TOPICS", (unique_topic,))
    settings = {"database_url": database_url, **kafka_settings(kafka),
                "safety_month_jwt_secret": jwt_secret, "service_name": name}  # fmt: skip
    pool = await create_pool(database_url, name)
    producer = new_producer(kafka)
    await producer.start()
    try:
        yield Reports(pool, producer, unique_topic, jwt_secret, settings)
    finally:
        await producer.stop()
        await pool.close()
