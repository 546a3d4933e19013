"""Batches: the events of a Kafka batch applied in one transaction, as if one by one."""

from collections.abc import Sequence

import asyncpg
import pytest

from smonth_shared.consumer import EventProcessor, PoisonEvent, Record
from smonth_shared.events import Envelope
from tests.integration.delivery.delivery_kit import case_event

pytestmark = pytest.mark.integration


class FakeDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[Record, str]] = []

    async def send(self, record: Record, error: str) -> None:
        self.sent.append((record, error))


class Things:
    """Remembers each case as a thing; refuses one whose title says so, alone or in a batch."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    async def one(self, conn: asyncpg.Connection, event: Envelope) -> None:
        if event.data["title"] == "refused":
            raise PoisonEvent("no such province")
        await conn.execute(
            "INSERT INTO things (event_id, name) VALUES ($1, $2)", event.id, event.data["title"]
        )

    async def many(self, conn: asyncpg.Connection, events: Sequence[Envelope]) -> None:
        self.batches.append(len(events))
        if any(event.data["title"] == "refused" for event in events):
            raise ValueError("one statement for the batch fails on the refused one")
        await conn.executemany(
            "INSERT INTO things (event_id, name) VALUES ($1, $2)",
            [(event.id, event.data["title"]) for event in events],
        )


def _processor(pool: asyncpg.Pool, things: Things, dead_letters: FakeDeadLetters) -> EventProcessor:
    return EventProcessor(
        consumer="reports", pool=pool, dead_letters=dead_letters,  # type: ignore[arg-type]
        effects={"case.reported": things.one}, batch_effects={"case.reported": things.many},
    )  # fmt: skip


def _records(*events: Envelope) -> list[Record]:
    return [Record("smonth.case.v1", 0, offset, b"44", event.to_bytes())
            for offset, event in enumerate(events)]  # fmt: skip


async def _names(pool: asyncpg.Pool) -> list[str]:
    return [row["name"] for row in await pool.fetch("SELECT name FROM things ORDER BY id")]


async def test_a_batch_takes_one_call_of_its_batch_effect_and_claims_every_event(
    pool: asyncpg.Pool,
) -> None:
    events = [case_event("44", f"case {n}") for n in range(5)]
    things = Things()

    await _processor(pool, things, FakeDeadLetters()).process(_records(*events))

    assert things.batches == [5]
    assert await _names(pool) == [f"case {n}" for n in range(5)]
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 5


async def test_an_event_repeated_in_a_batch_or_after_it_has_one_effect(pool: asyncpg.Pool) -> None:
    first, second = case_event("44", "first"), case_event("44", "second")
    processor = _processor(pool, Things(), FakeDeadLetters())

    await processor.process(_records(first, second, first))
    await processor.process(_records(second))

    assert await _names(pool) == ["first", "second"]


async def test_a_refused_event_in_a_batch_is_dead_lettered_and_the_others_applied(
    pool: asyncpg.Pool,
) -> None:
    events = [case_event("44", "before"), case_event("44", "refused"), case_event("44", "after")]
    dead_letters = FakeDeadLetters()

    await _processor(pool, Things(), dead_letters).process(_records(*events))

    assert await _names(pool) == ["before", "after"]
    assert [error for _, error in dead_letters.sent] == ["case.reported refused: no such province"]
    assert await pool.fetchval("SELECT count(*) FROM inbox") == 2
