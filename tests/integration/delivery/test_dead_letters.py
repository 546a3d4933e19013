"""Dead letters: a message that can never be applied goes aside unchanged, and the next one is."""

import asyncio
import json
import smtplib
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from smonth_shared.consumer import DeadLetters, Effect, EventProcessor, PoisonEvent, Record
from smonth_shared.events import DEADLETTER, Envelope
from smonth_shared.kafka import KafkaAccess
from smonth_shared.topics import ensure_topics
from tests.integration.delivery.delivery_kit import (
    case_event,
    end_offsets,
    partitions_of,
    read_topic,
)

pytestmark = pytest.mark.integration

MAX_ATTEMPTS = 2


class Effects:
    """Remembers each event as a thing, except those whose title says otherwise."""

    def __init__(self) -> None:
        self.attempts = 0

    async def remember(self, conn: asyncpg.Connection, event: Envelope) -> None:
        await conn.execute(
            "INSERT INTO things (event_id, name) VALUES ($1, $2)", event.id, event.data["title"]
        )
        self.attempts += 1
        if event.data["title"] == "contradicts the contract":
            raise PoisonEvent("the case's province has no such unit")
        if event.data["title"] == "always fails":
            raise RuntimeError("the disk is on fire")


def _not_json() -> bytes:
    return b"\xff not json " + uuid.uuid4().bytes


def _invalid_envelope() -> bytes:
    fields = json.loads(case_event("44", "bad province").to_bytes())
    fields["data"]["province"] = "4"
    return json.dumps(fields).encode()


POISONS = {
    "not JSON": (_not_json, "invalid envelope: "),
    "an invalid envelope": (_invalid_envelope, "data.province"),
    "an effect refusing it": (
        lambda: case_event("44", "contradicts the contract").to_bytes(),
        "case.reported refused: the case's province has no such unit",
    ),
    "an effect failing every time": (
        lambda: case_event("44", "always fails").to_bytes(),
        "RuntimeError: the disk is on fire",
    ),
}


@pytest.fixture
async def dead_letter_partitions(kafka: KafkaAccess) -> int:
    """The contract's topic, as a deployment creates it; read from the end, as others share it."""
    await ensure_topics(kafka, (DEADLETTER,))
    return await partitions_of(kafka, DEADLETTER.name)


@pytest.mark.parametrize("poison", list(POISONS))
async def test_a_poison_message_is_dead_lettered_unchanged_and_the_next_one_is_applied(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, kafka: KafkaAccess,
    dead_letter_partitions: int, poison: str,
) -> None:  # fmt: skip
    make_value, reason = POISONS[poison]
    value, good = make_value(), case_event("44", "fine")
    effects = Effects()
    processor = EventProcessor(
        consumer="reports", pool=pool, dead_letters=DeadLetters(producer, source="reports"),
        effects={"case.reported": effects.remember}, max_attempts=MAX_ATTEMPTS,
    )  # fmt: skip
    since = await end_offsets(kafka, DEADLETTER.name, dead_letter_partitions)

    await processor.process([
        Record("smonth.case.v1", 3, 17, b"44", value, (("traceparent", b"00-abc"),)),
        Record("smonth.case.v1", 3, 18, b"44", good.to_bytes()),
    ])  # fmt: skip

    [letter] = await read_topic(
        kafka, DEADLETTER.name, dead_letter_partitions, since=since, until=bool,
        keep=lambda record: record.value == value,
    )  # fmt: skip
    headers = dict(letter.headers)
    assert (letter.key, letter.value) == (b"44", value)
    assert reason in headers["error"].decode()
    assert headers["error-source"] == b"reports"
    assert headers["original-topic"] == b"smonth.case.v1"
    assert headers["traceparent"] == b"00-abc"
    assert [row["name"] for row in await pool.fetch("SELECT name FROM things")] == ["fine"]
    assert await pool.fetchval("SELECT array_agg(event_id) FROM inbox") == [good.id]


async def test_a_failing_effect_is_tried_max_attempts_times_before_it_is_dead_lettered(
    pool: asyncpg.Pool, producer: AIOKafkaProducer
) -> None:
    effects = Effects()
    processor = EventProcessor(
        consumer="reports", pool=pool, dead_letters=DeadLetters(producer, source="reports"),
        effects={"case.reported": effects.remember}, max_attempts=3,
    )  # fmt: skip

    await processor.process_one(
        Record("smonth.case.v1", 0, 0, b"44", case_event("44", "always fails").to_bytes())
    )

    assert effects.attempts == 3
    assert await pool.fetchval("SELECT count(*) FROM things") == 0


class FakeDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[Record, str]] = []

    async def send(self, record: Record, error: str) -> None:
        self.sent.append((record, error))


def _fake_processor(
    pool: asyncpg.Pool, effect: Effect, dead_letters: FakeDeadLetters
) -> EventProcessor:
    return EventProcessor(
        consumer="reports", pool=pool, dead_letters=dead_letters,  # type: ignore[arg-type]
        effects={"case.reported": effect}, max_attempts=MAX_ATTEMPTS,
    )  # fmt: skip


async def test_an_effect_that_recovers_is_applied_without_a_dead_letter(
    pool: asyncpg.Pool,
) -> None:
    failures = iter([RuntimeError("a glitch")])

    async def flaky(conn: asyncpg.Connection, event: Envelope) -> None:
        await conn.execute("INSERT INTO things (event_id, name) VALUES ($1, 'flaky')", event.id)
        if (failure := next(failures, None)) is not None:
            raise failure

    dead_letters = FakeDeadLetters()

    await _fake_processor(pool, flaky, dead_letters).process_one(
        Record("smonth.case.v1", 0, 0, b"44", case_event("44", "flaky").to_bytes())
    )

    assert dead_letters.sent == []
    assert await pool.fetchval("SELECT count(*) FROM things") == 1


async def test_an_effect_failing_with_an_os_error_of_its_own_is_dead_lettered_too(
    pool: asyncpg.Pool,
) -> None:
    """Only an outage of the database or the broker is waited out forever. An effect's own
    failure that happens to be an OSError (smtplib's errors all are) must not block the
    partition for good."""

    async def mail(conn: asyncpg.Connection, event: Envelope) -> None:
        raise smtplib.SMTPRecipientsRefused({"liaison@example.cn": (550, b"no such user")})

    dead_letters = FakeDeadLetters()
    record = Record("smonth.case.v1", 0, 0, b"44", case_event("44", "mail it").to_bytes())

    await asyncio.wait_for(_fake_processor(pool, mail, dead_letters).process_one(record), 30)

    assert [(sent, error.split(":")[0]) for sent, error in dead_letters.sent] == [
        (record, "SMTPRecipientsRefused")
    ]
