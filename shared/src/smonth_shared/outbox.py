"""The outbox: events written with the state they announce, published by one relay per service.

The writer runs inside the caller's transaction, so a rolled-back change announces nothing.
The relay holds a PostgreSQL advisory lock (one active relay per service, the others stand by),
sends pending rows in order with the subject as key, and marks them published only after the
broker acknowledged them; anything else is retried with back-off, forever.
"""

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import asyncpg
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.errors import (
    InvalidTopicError,
    KafkaError,
    MessageSizeTooLargeError,
    RecordTooLargeError,
)
from opentelemetry.trace import SpanKind, set_span_in_context

from smonth_shared.backoff import Backoff
from smonth_shared.db import DATABASE_OUTAGES, Connection, connect
from smonth_shared.events import Envelope
from smonth_shared.kafka import KafkaAccess
from smonth_shared.telemetry import (
    context_from_headers,
    current_trace_headers,
    records_spans,
    tracer,
)

log = logging.getLogger(__name__)

# Outages of the database or the broker: waited out and retried, never a reason to drop an event.
TRANSIENT_ERRORS = (*DATABASE_OUTAGES, OSError, asyncio.TimeoutError, KafkaError)


# Errors about one record that no retry will cure.
NEVER_DELIVERABLE = (MessageSizeTooLargeError, InvalidTopicError, RecordTooLargeError)


WRITERS_WAIT_MS = 200

# Batches handed to the producer before the oldest's acknowledgements are awaited: with two, the
# relay drained 20,585 rows/s in B3, with four 22,231 (medians of 3 rounds on a quiet machine).
BATCHES_IN_FLIGHT = 4
# Caught up, while the table takes more than this many rows a second (over the last second's
# looks), the relay lets the next rows gather for a while before it looks again. Each look costs
# a read, a produce request across the partitions and a marking, whatever it carries: at
# thousands of tips a second the looks' cost on the broker, the database and intake was most of
# what intake paid beyond a bare INSERT. Under that rate no event waits. A rate over time, not the
# rows of one look: those gathered in a pause would make the next look seem busy.
GATHER_FROM_ROWS_A_SECOND = 1000
GATHER_SECONDS = 0.05


def writers_lock(schema: str) -> str:
    return f"outbox-writers:{schema}"


@dataclass(frozen=True)
class Statement:
    """A data-modifying SQL statement to run with the events it announces, in the same statement.
    Its parameters are numbered from $9: the outbox's own come first."""

    sql: str
    args: tuple[Any, ...]


class Outbox:
    """Writes events into the service's outbox table, inside the caller's transaction."""

    def __init__(self, schema: str) -> None:
        self.channel = f"outbox_{schema}"
        self.writers_lock = writers_lock(schema)

    async def add(
        self, conn: Connection, *events: Envelope, state: Statement | None = None,
        traces: Sequence[dict[str, str]] | None = None,
    ) -> None:  # fmt: skip
        """The events, and the `state` they announce if given: as one statement, a write that
        needs nothing else is a transaction of its own, without BEGIN and COMMIT round trips.
        Each event continues the current trace, or the one of its own in `traces` (events
        written together for several requests)."""
        encoded = ([json.dumps(trace) for trace in traces] if traces is not None
                   else [json.dumps(current_trace_headers())] * len(events))  # fmt: skip
        await conn.execute(
            ADD_EVENTS.format(state=f"state AS ({state.sql})," if state else ""),
            self.writers_lock, self.channel, [e.id for e in events],
            [e.topic.name for e in events], [e.subject for e in events], [e.type for e in events],
            [e.to_bytes() for e in events], encoded,
            *(state.args if state else ()),
        )  # fmt: skip


# One round trip. The writers' lock is shared and held until the caller commits (the relay reads
# only once no writer is in flight); it is taken before any row draws its sequence number, as the
# rows come out of the join with it. A state's statement runs whether or not anything reads it,
# as does the one putting the rows in the relay's queue (outbox_pending).
# The notification is a hint only: the relay also polls, so a lost one costs latency, not events.
ADD_EVENTS = """
WITH writer AS (SELECT pg_advisory_xact_lock_shared(hashtext($1))),
{state}
added AS (
    INSERT INTO outbox (event_id, topic, key, event_type, value, headers)
    SELECT e.* FROM writer, unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::bytea[],
                                   $8::jsonb[]) AS e
    RETURNING seq
),
queued AS (INSERT INTO outbox_pending (seq) SELECT seq FROM added)
SELECT pg_notify($2, '') WHERE EXISTS (SELECT FROM added)
"""


def new_producer(kafka: KafkaAccess, **overrides: object) -> AIOKafkaProducer:
    """The producer every service uses: idempotent and fully acknowledged, so order per key holds
    across retries. No linger: the relay sends a whole batch read from its table before the
    producer's sender runs, so waiting for more records would only delay each event."""
    settings: dict[str, object] = {
        **kafka.client_options(),
        "acks": "all",
        "enable_idempotence": True,
        "linger_ms": 0,
        "max_batch_size": 256 * 1024,
        "request_timeout_ms": 15000,
        "compression_type": None,
    }
    settings.update(overrides)
    return AIOKafkaProducer(**settings)  # type: ignore[arg-type]


class Pace:
    """The rows a relay read over the last second, as it reads them."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._reads: deque[tuple[float, int]] = deque()
        self._rows = 0

    def rows_a_second(self, rows: int) -> int:
        """Counts the `rows` of a look; returns those of the looks in the last second."""
        now = self.clock()
        self._reads.append((now, rows))
        self._rows += rows
        while self._reads[0][0] < now - 1.0:
            self._rows -= self._reads.popleft()[1]
        return self._rows


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        *,
        dsn: str,
        schema: str,
        kafka: KafkaAccess,
        batch_size: int = 2000,
        poll_interval: float = 0.5,
    ) -> None:
        self.pool = pool
        self.dsn = dsn
        self.schema = schema
        self.channel = f"outbox_{schema}"
        self.writers_lock = writers_lock(schema)
        self.kafka = kafka
        self.batch_size = batch_size
        self.poll_interval = poll_interval
        self.is_leader = False
        self.tries_to_lead = 0  # a standby keeps trying: an operator (and a test) can see it does
        self._wakeup = asyncio.Event()

    async def run(self) -> None:
        """Until cancelled: take the lead when free, publish while leading, recover from outages."""
        backoff = Backoff()
        while True:
            try:
                async with self._leadership() as lock_conn:
                    if lock_conn is None:
                        await asyncio.sleep(self.poll_interval * 4)
                        continue
                    async with self._producer() as producer:
                        backoff.reset()
                        await self._publish_while_leading(lock_conn, producer)
            except TRANSIENT_ERRORS as error:
                delay = backoff.next()
                log.warning("outbox relay of %s: %s; retrying in %.1f s", self.schema, error, delay)
                await asyncio.sleep(delay)
            except Exception:
                # Anything else (a connection left in a broken state, say) must not end the
                # relay: its events would wait for a restart. Start over with a new session.
                delay = backoff.next()
                log.exception("outbox relay of %s failed; restarting in %.1f s", self.schema, delay)
                await asyncio.sleep(delay)

    async def _queue(
        self, producer: AIOKafkaProducer, conn: Connection, rows: list[asyncpg.Record]
    ) -> "_InFlight":
        """Hands the rows to the producer in order (it sends them while the relay goes on); a
        row it will never take is parked, and a refusal stops the queueing: what follows must
        not overtake that row."""
        batch = _InFlight()
        spans = records_spans()  # once a batch: asking the provider is dearer than a send
        for row in rows:
            try:
                batch.queued.append((row, await self._send(producer, row, spans)))
            except NEVER_DELIVERABLE as error:
                await self._park(conn, row, error)
            except TRANSIENT_ERRORS as error:
                batch.refusal = error
                break
        return batch

    async def _committed_pending(self, conn: Connection, after: int) -> list[asyncpg.Record] | None:
        """The pending rows after `after`, once this outbox's writers in flight are done (they
        hold the shared writer lock), so that every row with a lower sequence number is committed
        before any is read. None when a writer stays in flight longer than the lock timeout: new
        writers queue behind the relay's request, so it gives way rather than stall them.
        One statement, a transaction of its own (shared migration 005): one round trip where a
        transaction of two statements took four."""
        try:
            return await conn.fetch(
                "SELECT * FROM outbox_committed_pending($1, $2, $3, $4)",
                self.writers_lock, f"{WRITERS_WAIT_MS}ms", after, self.batch_size,
            )  # fmt: skip
        except asyncpg.exceptions.LockNotAvailableError:
            return None

    async def _park(self, conn: Connection, row: asyncpg.Record, error: BaseException) -> None:
        """A row the broker will never take (too large, say) would block every row behind it."""
        log.error("outbox of %s: event %s (%s) parked, the broker refuses it: %r",
                  self.schema, row["seq"], row["event_type"], error)  # fmt: skip
        await conn.execute(
            "WITH dequeued AS (DELETE FROM outbox_pending WHERE seq = $1)"
            " UPDATE outbox SET parked_reason = $2 WHERE seq = $1",
            row["seq"], repr(error),
        )  # fmt: skip

    async def _send(
        self, producer: AIOKafkaProducer, row: asyncpg.Record, spans: bool
    ) -> asyncio.Future:
        headers = self._trace_headers(row, spans)
        kafka_headers = [(k, v.encode()) for k, v in headers.items()]
        kafka_headers += [("content-type", b"application/json"),
                          ("event-type", row["event_type"].encode())]  # fmt: skip
        return await producer.send(
            row["topic"], value=row["value"], key=row["key"].encode(), headers=kafka_headers
        )

    def _trace_headers(self, row: asyncpg.Record, spans: bool) -> dict[str, str]:
        """A producer span's context, child of the request that wrote the row. When nothing takes
        spans, the request's own context travels on as stored: reading and writing it again for
        a span that is never made would cost more than sending the event."""
        stored: dict[str, str] = orjson.loads(row["headers"])
        if not spans:
            return stored
        span = tracer().start_span(
            f"{row['topic']} publish", kind=SpanKind.PRODUCER, context=context_from_headers(stored)
        )  # fmt: skip
        headers = current_trace_headers(set_span_in_context(span))
        span.end()
        return headers

    async def _publish_while_leading(
        self, lock_conn: Connection, producer: AIOKafkaProducer
    ) -> None:
        """Up to BATCHES_IN_FLIGHT batches in flight: while the broker acknowledges the oldest,
        the next is read and handed to the producer behind it, which keeps them in order per
        partition (idempotent, every record acknowledged by all replicas). A batch's acknowledged
        rows are marked published while the relay goes on; should a row fail, those queued after
        it are waited for and marked too (the broker has them), and the relay starts over from
        the first row pending."""
        await lock_conn.add_listener(self.channel, self._on_notify)
        marking = Marking(self.pool)
        read_ahead: asyncio.Future[list[asyncpg.Record] | None] | None = None
        in_flight: list[_InFlight] = []
        pace = Pace()
        try:
            after = 0
            while True:
                # Cleared before the fetch: a notification during the batch still wakes us.
                self._wakeup.clear()
                reading, read_ahead = read_ahead, None
                rows = await (reading or self._committed_pending(lock_conn, after))
                if rows is None:
                    continue  # writers in flight: look again at once
                in_flight.append(await self._queue(producer, lock_conn, rows))
                after = rows[-1]["seq"] if rows else after
                if len(rows) == self.batch_size and in_flight[-1].refusal is None:
                    # Read while the broker acknowledges: the rows after those just queued.
                    read_ahead = asyncio.ensure_future(
                        self._committed_pending(lock_conn, rows[-1]["seq"])
                    )
                    if len(in_flight) < BATCHES_IN_FLIGHT:
                        continue
                # The older batch's acknowledgements (or, caught up or refused, every batch's).
                while in_flight and (len(in_flight) >= BATCHES_IN_FLIGHT or read_ahead is None):
                    await in_flight[0].acknowledged(marking)  # still there if cancelled
                    in_flight.pop(0)
                if len(rows) < self.batch_size:
                    # Caught up. The next look starts from the first pending row, so that none
                    # pending again (unparked, say) is left, once every row sent is marked; while
                    # the marking commits, from the last row sent: the rows after it need not
                    # wait for that commit (B2: freshness), and those being marked are not sent
                    # twice.
                    if marking.finished():
                        await marking.done()  # its error, if any
                        after = 0
                    if pace.rows_a_second(len(rows)) > GATHER_FROM_ROWS_A_SECOND:
                        await asyncio.sleep(GATHER_SECONDS)  # a notification meanwhile is kept
                    await self._wait_for_work(lock_conn)
        finally:
            await _abandon(read_ahead)  # what follows a row not sent is not sent either
            # What the broker took is marked, so as not to be sent again.
            for batch in in_flight:
                with contextlib.suppress(Exception):
                    await batch.acknowledged(marking)
            with contextlib.suppress(*TRANSIENT_ERRORS):
                await marking.done()
            with contextlib.suppress(*TRANSIENT_ERRORS):
                await lock_conn.remove_listener(self.channel, self._on_notify)

    async def _wait_for_work(self, lock_conn: Connection) -> None:
        with contextlib.suppress(asyncio.TimeoutError):
            # asyncio.timeout, not wait_for: on 3.11 wait_for can lose a cancellation that
            # arrives as the wake-up does, and the relay would outlive the service's stop.
            async with asyncio.timeout(self.poll_interval):
                await self._wakeup.wait()
        if lock_conn.is_closed():
            raise asyncpg.InterfaceError("the relay's lock connection was closed")

    def _on_notify(self, *_: object) -> None:
        self._wakeup.set()

    @contextlib.asynccontextmanager
    async def _leadership(self) -> AsyncIterator[Connection | None]:
        """Yields the connection holding the relay lock, or None while another relay has it."""
        conn = await connect(self.dsn, self.schema)
        try:
            self.tries_to_lead += 1
            held = await conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtext($1))", f"outbox-relay:{self.schema}"
            )
            self.is_leader = bool(held)
            if held:
                log.info("outbox relay of %s: leading", self.schema)
            yield conn if held else None
        finally:
            self.is_leader = False
            # Closing the session releases the advisory lock.
            with contextlib.suppress(*TRANSIENT_ERRORS):
                await conn.close()

    @contextlib.asynccontextmanager
    async def _producer(self) -> AsyncIterator[AIOKafkaProducer]:
        producer = new_producer(self.kafka)
        try:
            await producer.start()
            yield producer
        finally:
            with contextlib.suppress(*TRANSIENT_ERRORS):
                await producer.stop()


@dataclass
class _InFlight:
    """A batch handed to the producer: its rows with their acknowledgements to come, and the
    error that stopped its queueing, if any."""

    queued: list[tuple[asyncpg.Record, "asyncio.Future[Any]"]] = field(default_factory=list)
    refusal: BaseException | None = None

    async def acknowledged(self, marking: "Marking") -> None:
        """Once the broker answered for every row: the acknowledged ones marked (in the
        background); then raises the refusal or the first failure."""
        futures = [future for _, future in self.queued]
        results = await asyncio.gather(*futures, return_exceptions=True)
        self.queued, queued = [], self.queued
        await marking.start([row["seq"] for (row, _), result in zip(queued, results, strict=True)
                             if not isinstance(result, BaseException)])  # fmt: skip
        failures = [result for result in results if isinstance(result, BaseException)]
        refusal, self.refusal = self.refusal, None
        if refusal or failures:
            raise refusal or failures[0]


class Marking:
    """Marks acknowledged rows published (takes them off the queue), one statement at a time on a
    connection of the pool, while the relay reads and sends the next batch: the database's time
    and the relay's overlap."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self._in_flight: asyncio.Task[str] | None = None

    async def start(self, seqs: list[int]) -> None:
        await self.done()
        if seqs:
            self._in_flight = asyncio.create_task(self.pool.execute(
                "DELETE FROM outbox_pending WHERE seq = ANY($1::bigint[])", seqs
            ))  # fmt: skip

    def finished(self) -> bool:
        """No marking in flight: every row handed to `start` is marked (or its marking failed)."""
        return self._in_flight is None or self._in_flight.done()

    async def done(self) -> None:
        """Once the marking in flight has ended; raises its error."""
        in_flight, self._in_flight = self._in_flight, None
        if in_flight is not None:
            await in_flight


async def _abandon(reading: "asyncio.Future[Any] | None") -> None:
    """A read ahead that will not be used: cancelled, and its end awaited (its connection is
    closed with the relay's session anyway)."""
    if reading is not None:
        reading.cancel()
        with contextlib.suppress(asyncio.CancelledError, *TRANSIENT_ERRORS):
            await reading


async def pending_count(pool: asyncpg.Pool) -> int:
    return await pool.fetchval("SELECT count(*) FROM outbox_pending")
