"""Dead letters as an operator handles them: listed from the dead-letter topic, re-driven once.

A letter's id is its place on the topic, `partition/offset`, which never changes. A redrive sends
the original record (key, value, and headers without the refusal's) back to the topic it came
from, inside the database transaction that marks the letter re-driven in the operator's `ops`
schema: the mark is committed only once the broker has the record, and a second redrive finds it
and is refused. Should the commit itself fail after the send, the record went twice at worst,
and the consumers' inbox drops the repeat: the envelope, so its event id, is the same.

A ministry system's letter (from `smonth.inbound.v1`) goes without its access token, which the
dead letters never keep: it is redrivable only when intake had verified the token before it
refused the envelope, and then says which system (`smonth-authenticated-system`). It is sent to
the internal `smonth.inbound.redriven.v1`, which only the operator may write, and intake applies
it as that system's if the registry still has the system active and registered for the subject;
the inbound consumer's inbox is the one that topic's consumer uses, so the envelope has one
effect even when the system also sent it again. A letter refused for its token (none, invalid,
expired, another system's) cannot be re-driven: the system sends it again.
"""

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.resources import files
from zoneinfo import ZoneInfo

from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from smonth_shared.db import connect, migrate
from smonth_shared.events import (
    AUTHENTICATED_SYSTEM,
    DEADLETTER,
    INBOUND,
    INBOUND_REDRIVEN,
)
from smonth_shared.kafka import KafkaAccess
from smonth_shared.outbox import new_producer
from smonth_shared.topics import topic_partitions

OFFICE_TZ = ZoneInfo("Asia/Shanghai")  # CONTRACT.md: the time zone the office reads times in
OPS_SCHEMA = "ops"
OPS_MIGRATIONS = files("safety_month") / "ops_migrations"
# What DeadLetters adds to a record; the rest of its headers are the original's.
REFUSAL_HEADERS = frozenset({"error", "error-source", "original-topic"})
# Where a letter of each ministry systems' topic is re-driven (without the system's token).
SYSTEMS_TOPICS = {INBOUND.name: INBOUND_REDRIVEN.name, INBOUND_REDRIVEN.name: INBOUND_REDRIVEN.name}


class RedriveRefused(Exception):
    """Nothing was sent: the message says which letter and why."""


class UnknownLetters(LookupError):
    """Ids that name no letter on the topic."""


@dataclass(frozen=True)
class Letter:
    id: str  # partition/offset on the dead-letter topic
    time: datetime  # when it was dead-lettered
    original_topic: str
    event_type: str
    source: str  # the service that refused it
    error: str
    key: bytes | None
    value: bytes | None
    headers: tuple[tuple[str, bytes], ...]
    redriven_at: datetime | None = None

    @property
    def authenticated_system(self) -> str | None:
        """The ministry system intake had verified the token of, for a system's letter."""
        value = dict(self.headers).get(AUTHENTICATED_SYSTEM)
        return value.decode("utf-8", "replace") if value else None

    @property
    def unauthenticated(self) -> bool:
        """A ministry system's letter refused before (or for) its token: no sender to act as."""
        return self.original_topic in SYSTEMS_TOPICS and self.authenticated_system is None

    @property
    def redrivable(self) -> bool:
        """Not re-driven yet, nor a ministry system's refused for its token (see `redrive`)."""
        return self.redriven_at is None and not self.unauthenticated

    @property
    def redrive_topic(self) -> str:
        return SYSTEMS_TOPICS.get(self.original_topic, self.original_topic)

    def original_headers(self) -> list[tuple[str, bytes]]:
        return [(name, value) for name, value in self.headers if name not in REFUSAL_HEADERS]

    def as_json(self) -> dict[str, str | bool | None]:
        return {"id": self.id, "time": self.time.isoformat(), "original_topic": self.original_topic,
                "event_type": self.event_type, "source": self.source, "error": self.error,
                "key": self.key.decode("utf-8", "replace") if self.key is not None else None,
                "authenticated_system": self.authenticated_system,
                "redrivable": self.redrivable,
                "redriven_at": self.redriven_at.isoformat() if self.redriven_at else None}  # fmt: skip


@dataclass(frozen=True)
class Filters:
    since: datetime | None = None
    event_type: str | None = None
    source: str | None = None

    def match(self, letter: Letter) -> bool:
        return ((self.since is None or letter.time >= self.since)
                and self.event_type in (None, letter.event_type)
                and self.source in (None, letter.source))  # fmt: skip


async def list_letters(
    kafka: KafkaAccess, database_url: str, filters: Filters = Filters(),
    topic: str = DEADLETTER.name,
) -> list[Letter]:  # fmt: skip
    """Every letter on the topic now that `filters` match, oldest first, each with its redrive."""
    redriven = await _redriven(database_url)
    return [
        Letter(**{**vars(letter), "redriven_at": redriven.get(letter.id)})
        for letter in await _read_all(kafka, topic) if filters.match(letter)
    ]  # fmt: skip


async def redrive(kafka: KafkaAccess, database_url: str, letters: Sequence[Letter]) -> list[Letter]:
    """Sends each letter's original record back to its topic (a ministry system's to
    INBOUND_REDRIVEN) and marks it; refuses the whole lot, sending nothing, when one was
    re-driven before or is a system's refused for its token. Returns the letters sent."""
    if done := [letter for letter in letters if letter.redriven_at is not None]:
        raise RedriveRefused("; ".join(
            f"{letter.id} was re-driven already, at {letter.redriven_at:%Y-%m-%d %H:%M:%S%z}"
            for letter in done
        ) + " — a letter is re-driven once")  # fmt: skip
    if unauthenticated := [letter for letter in letters if letter.unauthenticated]:
        # The dead letters never keep a sender's credential: with no system verified by intake,
        # there is no one for intake to apply the envelope as.
        raise RedriveRefused("; ".join(
            f"{letter.id} came from a ministry system on {letter.original_topic} and was refused "
            f"before its system was authenticated ({letter.error})"
            for letter in unauthenticated
        ) + " — its token is not kept with the dead letter: ask the system (the envelope's "
            "source) to send it again with a valid token")  # fmt: skip
    conn = await connect(database_url, OPS_SCHEMA)
    producer = new_producer(kafka)
    await producer.start()
    try:
        for letter in letters:
            async with conn.transaction():
                marked = await conn.fetchval(
                    "INSERT INTO redriven_letters (letter, original_topic, event_type)"
                    " VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING true",
                    letter.id, letter.original_topic, letter.event_type,
                )  # fmt: skip
                if not marked:  # another operator's redrive of it came first
                    raise RedriveRefused(f"{letter.id} was re-driven meanwhile by someone else")
                await producer.send_and_wait(letter.redrive_topic, key=letter.key,
                                             value=letter.value, headers=letter.original_headers())  # fmt: skip
    finally:
        await producer.stop()
        await conn.close()
    return list(letters)


async def _redriven(database_url: str) -> dict[str, datetime]:
    await migrate(database_url, OPS_SCHEMA, OPS_MIGRATIONS, delivery_tables=False)
    conn = await connect(database_url, OPS_SCHEMA)
    try:
        rows = await conn.fetch("SELECT letter, redriven_at FROM redriven_letters")
    finally:
        await conn.close()
    return {row["letter"]: row["redriven_at"] for row in rows}


async def _read_all(kafka: KafkaAccess, topic: str) -> list[Letter]:
    """The topic from its beginning to the end it has now, without a consumer group."""
    partitions = await topic_partitions(kafka, (topic,))
    if not partitions:
        return []
    consumer = AIOKafkaConsumer(**kafka.client_options(), enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records = []
        while [p for p, end in ends.items() if await consumer.position(p) < end]:
            batches = await consumer.getmany(timeout_ms=500)
            records += [record for batch in batches.values() for record in batch
                        if record.offset < ends[TopicPartition(topic, record.partition)]]  # fmt: skip
    finally:
        await consumer.stop()
    return [_letter(record) for record in sorted(records, key=lambda r: r.timestamp)]


def _letter(record: ConsumerRecord[bytes, bytes]) -> Letter:
    headers = tuple(record.headers or ())
    named = {name: value.decode("utf-8", "replace") for name, value in headers}
    return Letter(
        id=f"{record.partition}/{record.offset}",
        time=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        original_topic=named.get("original-topic", "?"),
        event_type=named.get("event-type") or _envelope_type(record.value),
        source=named.get("error-source", "?"), error=named.get("error", ""),
        key=record.key, value=record.value, headers=headers,
    )  # fmt: skip


def _envelope_type(value: bytes | None) -> str:
    """The envelope's own `type`, for a record sent without the event-type header (a ministry
    system's); '?' for one that is not an envelope at all."""
    try:
        kind = json.loads(value or b"").get("type")
    except (ValueError, AttributeError):
        return "?"
    return kind if isinstance(kind, str) else "?"


def chosen(letters: Iterable[Letter], ids: Sequence[str]) -> list[Letter]:
    """The letters of `ids`, in that order; refuses an id that names none."""
    by_id = {letter.id: letter for letter in letters}
    if unknown := [letter_id for letter_id in ids if letter_id not in by_id]:
        raise UnknownLetters(f"no dead letter {', '.join(unknown)} on {DEADLETTER.name} "
                             "(the ids `safety-month deadletters list` shows)")  # fmt: skip
    return [by_id[letter_id] for letter_id in ids]
