"""Consuming events exactly once in effect: the inbox, the dead letters, and the retry policy.

Each event is applied in one transaction that also records `(consumer, event id)` in the inbox,
so a redelivered event has no second effect. An offset is committed only after that transaction,
never automatically, and in the background (`OffsetCommits`): a commit that a crash cuts short
redelivers events the inbox then skips. Events whose type has a batch effect are applied a Kafka
batch at a time instead: the whole batch's inbox rows and effects in one transaction, a statement
per type; should that fail, its events are applied one by one as above, so that only the failing
one is retried and dead-lettered. An event that cannot be read, or whose handler keeps
failing, goes to the dead-letter topic unchanged with the reason; an outage of the database or
the broker is waited out instead, so nothing is dead-lettered because a server restarted.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple, Protocol
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from opentelemetry.context import Context
from opentelemetry.trace import Link, SpanKind, get_current_span
from pydantic import ValidationError

from smonth_shared.backoff import Backoff
from smonth_shared.db import DATABASE_OUTAGES, Connection
from smonth_shared.events import AUTHENTICATED_PREFIX, DEADLETTER, Envelope
from smonth_shared.metrics import DEAD_LETTERS, INBOX_DUPLICATES
from smonth_shared.outbox import TRANSIENT_ERRORS
from smonth_shared.telemetry import (
    context_from_headers,
    decode_kafka_headers,
    records_spans,
    tracer,
)

log = logging.getLogger(__name__)


class Event(Protocol):
    """What the processor needs of a parsed message: its id (for the inbox) and its type."""

    @property
    def id(self) -> UUID: ...

    @property
    def type(self) -> str: ...


Effect = Callable[[Connection, Any], Awaitable[None]]
# The effect of several events of one type, in the order they came, as if applied one by one.
BatchEffect = Callable[[Connection, Sequence[Any]], Awaitable[None]]
Parse = Callable[[bytes], Event]
# Record headers a processor vouches for (who it authenticated), kept with a dead letter.
Vouched = tuple[tuple[str, bytes], ...]
# Whether a parsed event may have its effect at all (who sent it): raises PoisonEvent if not,
# and returns what it vouches for, if anything.
Admit = Callable[["Record", Event], Vouched | None]

# A batch span links to the trace of each of its events, up to this many.
MAX_LINKS = 128


def one_by_one(effect: Effect) -> BatchEffect:
    """A batch effect applying `effect` to each event in turn (in the batch's transaction): for
    effects that one statement cannot do for many events."""

    async def apply_each(conn: Connection, events: Sequence[Any]) -> None:
        for event in events:
            await effect(conn, event)

    return apply_each


class PoisonEvent(Exception):
    """An event that will never succeed (it contradicts the contract): dead-letter it at once.

    `vouched`: what an admit that refuses the event after authenticating its sender vouches
    for (kept with the dead letter, as an admitted record's)."""

    def __init__(self, reason: str, *, vouched: Vouched = ()) -> None:
        super().__init__(reason)
        self.vouched = vouched


class Record(NamedTuple):
    """What a consumer needs of a Kafka record, whatever client fetched it: a tuple, made in a
    third of a frozen dataclass's time, for each of a batch's thousands."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = ()
    timestamp: int = 0  # ms; the broker's append time on a topic with LogAppendTime
    # Set by the processor from its admit, never read from the broker: its dead letter carries
    # these in place of any headers of those names the sender put on the record.
    vouched: Vouched = ()

    @classmethod
    def of(cls, raw: Any) -> "Record":
        return cls(raw.topic, raw.partition, raw.offset, raw.key, raw.value,
                   tuple(raw.headers or ()), raw.timestamp or 0)  # fmt: skip

    def header(self, name: str) -> bytes | None:
        return next((value for key, value in self.headers if key == name), None)


class OffsetCommits:
    """The offsets of the records a subscriber has processed, committed while it fetches and
    applies the next batch: awaited in line, a commit was 20-30 ms of each batch's cycle (B2).
    Only what was processed is ever committed; a commit lost to a crash, a rebalance or a stop
    makes the broker deliver those events again, and the inbox skips them."""

    def __init__(self, who: str) -> None:
        self.who = who
        self._due: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._committing: asyncio.Task[None] | None = None

    def processed(self, consumer: AIOKafkaConsumer, records: Iterable[Record]) -> None:
        for record in records:
            partition = TopicPartition(record.topic, record.partition)
            self._due[partition] = max(self._due.get(partition, 0), record.offset + 1)
        self._consumer = consumer
        if self._committing is None or self._committing.done():
            self._committing = asyncio.create_task(self._commit_due())

    async def flush(self) -> None:
        """Once every offset processed so far is committed (or its commit failed)."""
        while self._committing is not None and not self._committing.done():
            await asyncio.shield(self._committing)

    async def _commit_due(self) -> None:
        # What is processed while a commit is under way goes in the next one.
        while self._due and self._consumer is not None:
            due, self._due = self._due, {}
            try:
                await self._consumer.commit(due)
            except Exception as error:  # the broker away, a rebalance, the consumer stopped
                log.info("%s: offsets %s not committed (%r): those events come again, and the "
                         "inbox skips them", self.who, due, error)  # fmt: skip


class Inbox:
    def __init__(self, consumer: str) -> None:
        self.consumer = consumer

    async def claim(self, conn: Connection, event_id: UUID) -> bool:
        """True the first time this consumer sees the event; call inside the effect's transaction."""
        claimed = await conn.fetchval(
            "INSERT INTO inbox (consumer, event_id) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING true",
            self.consumer,
            event_id,
        )
        return bool(claimed)

    async def claim_many(self, conn: Connection, event_ids: Iterable[UUID]) -> set[UUID]:
        """The ids of a batch not seen before, in one statement."""
        rows = await conn.fetch(
            "INSERT INTO inbox (consumer, event_id) SELECT $1, unnest($2::uuid[])"
            " ON CONFLICT DO NOTHING RETURNING event_id",
            self.consumer,
            list(event_ids),
        )
        return {row["event_id"] for row in rows}


class DeadLetters:
    def __init__(self, producer: AIOKafkaProducer, source: str) -> None:
        self.producer = producer
        self.source = source

    async def send(self, record: Record, error: str) -> None:
        """The record unchanged, with why it was refused and by whom; waits for the broker."""
        # A sender's credential never reaches the dead letters (whoever may read them), and
        # what says who was authenticated is only ever the processor's own.
        headers = [(k, v) for k, v in record.headers
                   if k not in ("error", "error-source", "authorization")
                   and not k.startswith(AUTHENTICATED_PREFIX)]  # fmt: skip
        headers += [*record.vouched, ("error", error[:4000].encode()), ("error-source", self.source.encode()),
                    ("original-topic", record.topic.encode())]  # fmt: skip
        backoff = Backoff()
        while True:
            try:
                await self.producer.send_and_wait(
                    DEADLETTER.name, value=record.value, key=record.key, headers=headers
                )
                break
            except TRANSIENT_ERRORS as failure:
                await _wait_out("dead-letter producer", failure, backoff)
        DEAD_LETTERS.labels(self.source, record.topic).inc()
        log.warning("dead-lettered %s@%s/%s: %s", record.topic, record.partition, record.offset,
                    error)  # fmt: skip


class EventProcessor:
    """Applies events to one consumer's state, once each."""

    def __init__(
        self,
        *,
        consumer: str,
        pool: asyncpg.Pool,
        dead_letters: DeadLetters,
        effects: Mapping[str, Effect],
        batch_effects: Mapping[str, BatchEffect] | None = None,
        max_attempts: int = 5,
        parse: Parse = Envelope.from_bytes,
        admit: Admit | None = None,
    ) -> None:
        self.parse = parse
        self.admit = admit
        self.inbox = Inbox(consumer)
        self.pool = pool
        self.dead_letters = dead_letters
        self.effects = effects
        self.batch_effects = batch_effects or {}
        if unbacked := set(self.batch_effects) - set(effects):
            # A failing batch is applied one by one: each batched type needs its single effect.
            raise ValueError(f"batch effects without an effect: {', '.join(sorted(unbacked))}")
        self.max_attempts = max_attempts

    async def process(self, records: Sequence[Record]) -> None:
        """In order; consecutive events that have batch effects are applied together."""
        run: list[tuple[Record, Event]] = []
        for fetched in records:
            parsed = await self._parse(fetched)
            if parsed is None:
                continue
            record, event = parsed
            if event.type in self.batch_effects:
                run.append((record, event))
            elif event.type in self.effects:
                await self._apply_batch(run)
                run = []
                await self._apply(record, event)
        await self._apply_batch(run)

    async def process_one(self, record: Record) -> None:
        parsed = await self._parse(record)
        if parsed is not None:
            await self._apply(*parsed)

    async def _parse(self, record: Record) -> tuple[Record, Event] | None:
        """The event, with the record as the admit vouched for it; None when it is
        dead-lettered as unreadable or refused."""
        try:
            event = self.parse(record.value or b"")
        except ValidationError as error:
            await self.dead_letters.send(record, f"invalid envelope: {_summarise(error)}")
            return None
        if self.admit is not None:
            try:
                vouched = self.admit(record, event)
            except PoisonEvent as refusal:
                await self.dead_letters.send(record._replace(vouched=refusal.vouched),
                                             f"{event.type} refused: {refusal}")  # fmt: skip
                return None
            if vouched:
                record = record._replace(vouched=vouched)
        return record, event

    async def _apply_batch(self, run: Sequence[tuple[Record, Event]]) -> None:
        if not run:
            return
        # A batch of one continues its event's trace, as a single event's span does; a larger
        # batch belongs to no one trace and links to each of its events' instead (links that
        # nothing records are not worth reading every record's headers for).
        parent = _context_of(run[0][0]) if len(run) == 1 else None
        links = [] if parent is not None or not records_spans() else [
            Link(context) for record, _ in run[:MAX_LINKS]
            if (context := get_current_span(_context_of(record)).get_span_context()).is_valid
        ]  # fmt: skip
        backoff = Backoff()
        while True:
            try:
                with tracer().start_as_current_span(
                    f"{run[0][0].topic} process", context=parent, kind=SpanKind.CONSUMER,
                    links=links,
                    attributes={"messaging.batch.message_count": len(run)},
                ):  # fmt: skip
                    async with self.pool.acquire() as conn, conn.transaction():
                        events = [event for _, event in run]
                        applied = await apply_batch(conn, self.inbox, self.batch_effects, events)
                if applied < len(run):
                    INBOX_DUPLICATES.labels(self.inbox.consumer).inc(len(run) - applied)
                return
            except DATABASE_OUTAGES as outage:
                await _wait_out(f"{self.inbox.consumer} consumer", outage, backoff)
            except Exception as error:
                # One of them is refused or failing: one by one, only that one is retried
                # and dead-lettered.
                log.info("%s: a batch of %s failed (%r); applying its events one by one",
                         self.inbox.consumer, len(run), error)  # fmt: skip
                for record, event in run:
                    await self._apply(record, event)
                return

    async def _apply(self, record: Record, event: Event) -> None:
        effect = self.effects.get(event.type)
        if effect is None:
            return
        headers = decode_kafka_headers(record.headers)
        with tracer().start_as_current_span(
            f"{record.topic} process",
            context=context_from_headers(headers),
            kind=SpanKind.CONSUMER,
            attributes={"messaging.message.id": str(event.id), "event.type": event.type},
        ):
            await self._apply_with_retries(record, event, effect)

    async def _apply_with_retries(self, record: Record, event: Event, effect: Effect) -> None:
        backoff = Backoff()
        failures = 0
        while True:
            try:
                async with self.pool.acquire() as conn, conn.transaction():
                    first_time = await self.inbox.claim(conn, event.id)
                    if first_time:
                        await effect(conn, event)
                if not first_time:
                    INBOX_DUPLICATES.labels(self.inbox.consumer).inc()
                return
            except DATABASE_OUTAGES as outage:
                # Only the database's outages; an effect's own OSError counts as a failure.
                await _wait_out(f"{self.inbox.consumer} consumer", outage, backoff)
            except PoisonEvent as refusal:
                await self.dead_letters.send(record, f"{event.type} refused: {refusal}")
                return
            except Exception as error:
                failures += 1
                log.exception("%s failed on %s (%s/%s)", self.inbox.consumer, event.id, failures,
                              self.max_attempts)  # fmt: skip
                if failures >= self.max_attempts:
                    await self.dead_letters.send(record, f"{type(error).__name__}: {error}")
                    return
                await asyncio.sleep(backoff.next())


async def apply_batch(
    conn: Connection, inbox: Inbox, batch_effects: Mapping[str, BatchEffect],
    events: Sequence[Event],
) -> int:  # fmt: skip
    """Inside the caller's transaction: claims the events in the inbox, then applies those seen
    for the first time, type by type in the order of `batch_effects` (each type's events in
    their order). Returns how many took effect.

    That equals applying them one by one as long as events of different types touching one row
    come in the mapping's order (a tip is received before it is resolved): put the effects that
    create a row before those that change it."""
    fresh = await inbox.claim_many(conn, [event.id for event in events])
    # As many claimed as given: each is there once, and new (no UUIDs to compare).
    first_times = events if len(fresh) == len(events) else _first_times(events, fresh)
    by_type: dict[str, list[Event]] = {}
    for event in first_times:
        by_type.setdefault(event.type, []).append(event)
    for kind, effect in batch_effects.items():
        if kind in by_type:
            await effect(conn, by_type[kind])
    return sum(len(batch) for batch in by_type.values())


def _context_of(record: Record) -> Context:
    return context_from_headers(decode_kafka_headers(record.headers))


def _first_times(events: Iterable[Event], fresh: set[UUID]) -> list[Event]:
    """The events just claimed, each once (a batch may carry an event twice); takes them from
    `fresh` so that a repeat later in the batch is skipped too."""
    new = []
    for event in events:
        if event.id in fresh:
            fresh.discard(event.id)
            new.append(event)
    return new


async def _wait_out(who: str, outage: BaseException, backoff: Backoff) -> None:
    delay = backoff.next()
    log.warning("%s: %s; retrying in %.1f s", who, outage or type(outage).__name__, delay)
    await asyncio.sleep(delay)


def _summarise(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or 'value'}: {item['msg']}"
        for item in error.errors()
    )
