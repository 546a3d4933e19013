"""Consuming events exactly once in effect: the inbox, the dead letters, and the retry policy.

Each event is applied in one transaction that also records `(consumer, event id)` in the inbox,
so a redelivered event has no second effect. The offset is committed by the subscriber only after
that transaction, never automatically. An event that cannot be read, or whose handler keeps
failing, goes to the dead-letter topic unchanged with the reason; an outage of the database or
the broker is waited out instead, so nothing is dead-lettered because a server restarted.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaProducer
from opentelemetry.trace import SpanKind
from pydantic import ValidationError

from smonth_shared.backoff import Backoff
from smonth_shared.db import DATABASE_OUTAGES, Connection
from smonth_shared.events import DEADLETTER, Envelope
from smonth_shared.outbox import TRANSIENT_ERRORS
from smonth_shared.telemetry import context_from_headers, decode_kafka_headers, tracer

log = logging.getLogger(__name__)


class Event(Protocol):
    """What the processor needs of a parsed message: its id (for the inbox) and its type."""

    @property
    def id(self) -> UUID: ...

    @property
    def type(self) -> str: ...


Effect = Callable[[Connection, Any], Awaitable[None]]
Parse = Callable[[bytes], Event]


class PoisonEvent(Exception):
    """An event that will never succeed (it contradicts the contract): dead-letter it at once."""


@dataclass(frozen=True)
class Record:
    """What a consumer needs of a Kafka record, whatever client fetched it."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...] = field(default=())

    @classmethod
    def of(cls, raw: object) -> "Record":
        return cls(
            topic=raw.topic,  # type: ignore[attr-defined]
            partition=raw.partition,  # type: ignore[attr-defined]
            offset=raw.offset,  # type: ignore[attr-defined]
            key=raw.key,  # type: ignore[attr-defined]
            value=raw.value,  # type: ignore[attr-defined]
            headers=tuple(raw.headers or ()),  # type: ignore[attr-defined]
        )


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
        headers = [(k, v) for k, v in record.headers if k not in ("error", "error-source")]
        headers += [("error", error[:4000].encode()), ("error-source", self.source.encode()),
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
        max_attempts: int = 5,
        parse: Parse = Envelope.from_bytes,
    ) -> None:
        self.parse = parse
        self.inbox = Inbox(consumer)
        self.pool = pool
        self.dead_letters = dead_letters
        self.effects = effects
        self.max_attempts = max_attempts

    async def process(self, records: Sequence[Record]) -> None:
        for record in records:
            await self.process_one(record)

    async def process_one(self, record: Record) -> None:
        try:
            event = self.parse(record.value or b"")
        except ValidationError as error:
            await self.dead_letters.send(record, f"invalid envelope: {_summarise(error)}")
            return
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
                    if await self.inbox.claim(conn, event.id):
                        await effect(conn, event)
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


async def _wait_out(who: str, outage: BaseException, backoff: Backoff) -> None:
    delay = backoff.next()
    log.warning("%s: %s; retrying in %.1f s", who, outage or type(outage).__name__, delay)
    await asyncio.sleep(delay)


def _summarise(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc']) or 'value'}: {item['msg']}"
        for item in error.errors()
    )
