"""What every service runs on: the pool, the clock, the outbox relay, the subscribers, the HTTP app.

A service's `build(settings)` creates one `Runtime`, registers its consumers and background jobs,
and asks it for the FastAPI application; nothing connects until that application starts.
"""

import asyncio
import collections
import contextlib
import gc
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Mapping, Sequence
from importlib.resources.abc import Traversable
from typing import Any, cast

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import APIRouter, Depends, FastAPI, Response
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from prometheus_client import CONTENT_TYPE_LATEST, Counter, generate_latest
from starlette.middleware import Middleware

from smonth_shared.access_feed import AccessFeed
from smonth_shared.asyncapi import asyncapi_document
from smonth_shared.auth import TokenVerifier
from smonth_shared.backoff import Backoff
from smonth_shared.campaign import load_campaign
from smonth_shared.clock import clock_from_settings
from smonth_shared.consumer import (
    Admit,
    BatchEffect,
    DeadLetters,
    Effect,
    EventProcessor,
    OffsetCommits,
    Parse,
    Record,
)
from smonth_shared.db import create_pool, pending_migrations
from smonth_shared.events import Envelope
from smonth_shared.measure import MeasuredRequests
from smonth_shared.metrics import (
    READY,
    SCRAPE_STEP_SECONDS,
    Reading,
    observe_lag,
    observe_outbox,
    read_at_scrape,
)
from smonth_shared.openapi import document
from smonth_shared.outbox import TRANSIENT_ERRORS, Outbox, OutboxRelay, new_producer
from smonth_shared.problems import install_problem_handlers, refuse_unknown_query_parameters
from smonth_shared.settings import ServiceSettings

log = logging.getLogger(__name__)

# How long a consumer's fetch waits for records; it returns as soon as any are there. faststream's
# batch subscriber sleeps as long again after a fetch that found none, and a record arriving in
# that sleep waited it out (the slowest hundredth of the tips reached the summary about that much
# later): its subscribers fetch without that sleep (`_fetch_without_sleeping`), so the wait
# costs no latency, only how often an idle consumer wakes.
IDLE_WAIT_MS = 500

EVENTS_CONSUMED = Counter(
    "smonth_events_consumed_total", "Kafka records handed to a consumer", ["service", "topic"]
)

BackgroundJob = Callable[[], Awaitable[None]]

# FastAPI's own telemetry would trace every request a second time (and its dependencies, endpoint
# and serialisation each as a span of their own): the services trace and count requests once,
# in smonth_shared.measure.
NO_NATIVE_TELEMETRY: TelemetryConfig = {
    "tracing": False, "metrics": False, "logs": False, "operation_spans": False,
}  # fmt: skip


class Runtime:
    def __init__(
        self, settings: ServiceSettings, *, migrations: Traversable, publishes: Sequence[str] = ()
    ) -> None:
        self.settings = settings
        self.name = settings.service_name
        self.migrations = migrations
        self.publishes = publishes
        self.clock = clock_from_settings(
            settings.clock_start, settings.clock_speed, settings.clock_origin,
            settings.clock_speed_changes,
        )  # fmt: skip
        self.outbox = Outbox(settings.db_schema)
        self.broker = KafkaBroker(
            settings.kafka_bootstrap_servers, security=settings.kafka.faststream_security(),
            logger=None,
        )  # fmt: skip
        self.broker_ready = asyncio.Event()
        self.verifier = TokenVerifier(
            settings.safety_month_jwt_secret, provider=settings.identity_provider
        )
        self.access_feed = AccessFeed(settings.kafka, self.verifier.revocations)
        self._pool: asyncpg.Pool | None = None
        self._dead_letters: DeadLetters | None = None
        self._processors: list[EventProcessor] = []
        self._jobs: list[tuple[str, BackgroundJob]] = []
        self._readings: list[Reading] = []
        self._consumed_topics: set[str] = set()
        self._offset_commits: list[OffsetCommits] = []
        self._consumers: dict[str, AIOKafkaConsumer] = {}  # by group, once it has fetched
        self.relay: OutboxRelay | None = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError(f"{self.name} has not started: no database pool yet")
        return self._pool

    def consume(
        self, *topics: str, effects: Mapping[str, Effect], consumer: str | None = None,
        batch_effects: Mapping[str, BatchEffect] | None = None, max_records: int = 500,
        parse: Parse = Envelope.from_bytes, admit: Admit | None = None, inbox: str | None = None,
    ) -> None:  # fmt: skip
        """Apply the events of `topics` through `effects` (by event type), once each; the types
        of `batch_effects` a Kafka batch at a time, in one transaction. `inbox`: another
        consumer's inbox (by default the consumer's own), for a second way in to the same
        effects that must not apply an event the first way has applied, nor the reverse."""
        group = self.settings.consumer_group(consumer or self.name)
        self._consumed_topics.update(topics)
        holder: dict[str, EventProcessor] = {}

        def processor() -> EventProcessor:
            if "processor" not in holder:
                holder["processor"] = EventProcessor(
                    consumer=inbox or consumer or self.name, pool=self.pool,
                    dead_letters=self._require_dead_letters(), effects=effects,
                    batch_effects=batch_effects, max_attempts=self.settings.consumer_max_attempts,
                    parse=parse, admit=admit,
                )  # fmt: skip
            return holder["processor"]

        async def undecoded(_: StreamMessage[Any]) -> None:
            """The processor reads the records' values itself: faststream's own decoding would
            make a message of each record and parse its JSON, only for it to be dropped."""

        commits = OffsetCommits(f"{self.name} consumer")
        self._offset_commits.append(commits)

        subscriber = self.broker.subscriber(
            *topics, group_id=group, batch=True, max_records=max_records,
            batch_timeout_ms=IDLE_WAIT_MS,
            ack_policy=AckPolicy.MANUAL, auto_offset_reset="earliest",
            title=f"{group}:{','.join(topics)}", decoder=undecoded,
        )  # fmt: skip
        _fetch_without_sleeping(subscriber, max_records)

        @subscriber
        async def on_records(message: KafkaMessage) -> None:
            # faststream types the consumer by the two methods it calls; it is aiokafka's.
            consumer = cast(AIOKafkaConsumer, message.consumer)
            self._consumers[group] = consumer
            raw = message.raw_message
            records = [Record.of(item) for item in (raw if isinstance(raw, tuple) else (raw,))]
            by_topic = collections.Counter(record.topic for record in records)
            for topic, count in by_topic.items():
                EVENTS_CONSUMED.labels(self.name, topic).inc(count)
            try:
                await processor().process(records)
            except Exception:
                await message.nack()  # fetched again, from the first record of each partition
                raise
            commits.processed(consumer, records)

    def background(self, name: str, job: BackgroundJob) -> None:
        """A job that runs for the life of the service (restarted with back-off if it fails)."""
        self._jobs.append((name, job))

    def observe_at_scrape(self, reading: Reading) -> None:
        """A gauge of the service's own, set from its database at each scrape of /metrics."""
        self._readings.append(reading)

    def _require_dead_letters(self) -> DeadLetters:
        if self._dead_letters is None:
            raise RuntimeError("dead letters are not ready before the broker starts")
        return self._dead_letters

    async def readiness(self) -> dict[str, Any]:
        checks: dict[str, Any] = {}
        try:
            await self.pool.fetchval("SELECT 1")
            missing = await pending_migrations(self.pool, self.migrations)
            checks["database"] = "ok"
            checks["migrations"] = "ok" if not missing else f"missing: {', '.join(missing)}"
        except (*TRANSIENT_ERRORS, RuntimeError) as error:
            checks["database"] = f"unreachable: {error}"
        checks["broker"] = "ok" if self.broker_ready.is_set() else "not connected"
        checks["access list"] = "ok" if self.access_feed.caught_up.is_set() else "not read yet"
        return checks

    def http_app(
        self, *, title: str, routers: Sequence[APIRouter] = (), description: str = "",
        measured: Sequence[Middleware] = (),
    ) -> FastAPI:  # fmt: skip
        """`measured`: ASGI middleware whose requests are counted, timed and traced as the
        others (inside the measuring, outermost first)."""
        app = FastAPI(
            title=title, description=description, lifespan=self._lifespan, version="1",
            telemetry=NO_NATIVE_TELEMETRY,
            dependencies=[Depends(refuse_unknown_query_parameters)],
        )  # fmt: skip
        install_problem_handlers(app)
        for middleware in reversed(measured):
            app.add_middleware(middleware.cls, *middleware.args, **middleware.kwargs)
        app.add_middleware(MeasuredRequests, service=self.name)
        for router in routers:
            app.include_router(router)
        self._add_operations_routes(app)
        document(app, load_campaign(self.settings.campaign, self.settings.campaign_file))
        return app

    def _add_operations_routes(self, app: FastAPI) -> None:
        @app.get("/healthz", include_in_schema=False)
        async def healthz() -> dict[str, str]:
            return {"status": "ok", "service": self.name}

        @app.get("/readyz", include_in_schema=False)
        async def readyz() -> JSONResponse:
            checks = await self.readiness()
            ready = all(value == "ok" for value in checks.values())
            return JSONResponse({"ready": ready, **checks}, status_code=200 if ready else 503)

        @app.get("/metrics", include_in_schema=False)
        async def metrics() -> Response:
            await self._observe()
            return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

        @app.get("/asyncapi.json", include_in_schema=False)
        async def asyncapi() -> dict[str, Any]:
            return asyncapi_document(
                self.name, consumes=sorted(self._consumed_topics), publishes=self.publishes
            )

    async def _observe(self) -> None:
        """What is read at each scrape rather than counted as it happens."""
        checks = await self.readiness()
        READY.labels(self.name).set(all(value == "ok" for value in checks.values()))
        if checks.get("database") == "ok":
            await observe_outbox(self.pool, self.name)
            for reading in self._readings:
                await read_at_scrape(reading, self.pool)
        try:
            async with asyncio.timeout(SCRAPE_STEP_SECONDS):
                await observe_lag(self._consumers)
        except TimeoutError:
            log.warning("%s: consumer lag not read within %.0f s", self.name, SCRAPE_STEP_SECONDS)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: FastAPI) -> AsyncIterator[None]:
        settings = self.settings
        self._pool = await create_pool(settings.database_url, settings.db_schema)
        producer = new_producer(settings.kafka)
        self._dead_letters = DeadLetters(producer, source=self.name)
        self.relay = OutboxRelay(
            self.pool, dsn=settings.database_url, schema=settings.db_schema,
            kafka=settings.kafka,
            batch_size=settings.relay_batch_size,
        )  # fmt: skip
        tasks = [
            asyncio.create_task(self._connect_broker(producer), name="broker"),
            asyncio.create_task(self.relay.run(), name="outbox-relay"),
            asyncio.create_task(self.access_feed.run(), name="access-list"),
            *(
                asyncio.create_task(self._keep_running(name, job), name=name)
                for name, job in self._jobs
            ),
        ]
        log.info("%s started", self.name)
        try:
            yield
        finally:
            await _cancel_all(tasks, f"{self.name}: background tasks")
            # Each step bounded: a stop must end even when the broker or the database is away.
            await _bounded(self._flush_offset_commits(), f"{self.name}: offset commits")
            await _bounded(self.broker.stop(), f"{self.name}: subscribers")
            await _bounded(producer.stop(), f"{self.name}: producer")
            if not await _bounded(self.pool.close(), f"{self.name}: database pool"):
                self.pool.terminate()
            log.info("%s stopped", self.name)

    async def _flush_offset_commits(self) -> None:
        for commits in self._offset_commits:
            await commits.flush()

    async def _connect_broker(self, producer: AIOKafkaProducer) -> None:
        """The service answers HTTP (and keeps writing its outbox) while the broker is away."""
        backoff = Backoff()
        while True:
            try:
                await producer.start()
                break
            except TRANSIENT_ERRORS as error:
                await _pause(f"{self.name}: broker not reachable ({error})", backoff)
        while True:
            try:
                await self.broker.start()
                break
            except TRANSIENT_ERRORS as error:
                await _pause(f"{self.name}: subscribers not started ({error})", backoff)
        self.broker_ready.set()
        log.info("%s: connected to the broker", self.name)

    async def _keep_running(self, name: str, job: BackgroundJob) -> None:
        backoff = Backoff()
        while True:
            try:
                await job()
                return
            except Exception as error:
                task = asyncio.current_task()
                if task is not None and task.cancelling():
                    raise  # a failure while being stopped is the stop, not a job to restart
                log.exception("%s: background job %s failed", self.name, name)
                await _pause(f"{self.name}: restarting {name} ({error})", backoff)


def _fetch_without_sleeping(subscriber: Any, max_records: int) -> None:
    """The batch subscriber's fetch, as faststream's but for the sleep after a fetch that found
    nothing: aiokafka's `getmany` has already waited that long for records, and wakes as soon as
    its fetcher has some, so sleeping again only keeps a record that has arrived waiting."""

    async def fetch(consumer: AIOKafkaConsumer) -> tuple[Any, ...]:
        batches = await consumer.getmany(timeout_ms=IDLE_WAIT_MS, max_records=max_records)
        return tuple(itertools.chain.from_iterable(batches.values()))  # () is skipped

    subscriber.get_msg = fetch


def freeze_start_up_objects() -> None:
    """What is made by now (modules, the app, the campaign) lives as long as the process: frozen,
    the collector stops scanning it again at each full collection, which batches of thousands of
    parsed events set off every few batches."""
    gc.collect()
    gc.freeze()


SHUTDOWN_STEP_SECONDS = 10.0


async def _cancel_all(tasks: Sequence[asyncio.Task[Any]], what: str) -> None:
    """Cancels until they end, within a bound: a task that swallowed one cancellation (a race
    in some library's wait) gets another rather than hold the stop forever."""
    deadline = asyncio.get_running_loop().time() + SHUTDOWN_STEP_SECONDS
    pending = {task for task in tasks if not task.done()}
    while pending and asyncio.get_running_loop().time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
    if pending:
        log.warning("%s: %s still running after %.0f s", what,
                    ", ".join(t.get_name() for t in pending), SHUTDOWN_STEP_SECONDS)  # fmt: skip


async def _bounded(step: Coroutine[Any, Any, Any], what: str) -> bool:
    """True when `step` ended in time; a failure or a time-out is logged, never raised. The step
    is left behind after its time (not awaited again): a step that ignores cancellation must not
    hold the stop."""
    task = asyncio.ensure_future(step)
    done, _ = await asyncio.wait({task}, timeout=SHUTDOWN_STEP_SECONDS)
    if not done:
        task.cancel()
        log.warning("%s did not stop within %.0f s", what, SHUTDOWN_STEP_SECONDS)
        return False
    if task.exception() is not None:
        log.warning("%s stopped with an error: %r", what, task.exception())
        return False
    return True


async def _pause(message: str, backoff: Backoff) -> None:
    delay = backoff.next()
    log.warning("%s; retrying in %.1f s", message, delay)
    await asyncio.sleep(delay)
