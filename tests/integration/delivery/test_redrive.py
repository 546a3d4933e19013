"""An operator re-drives a dead letter once its cause is fixed: `safety-month deadletters` lists
it with its error, sends the original record back to its topic, where it takes effect once, and
refuses to send it a second time."""

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from smonth_shared.consumer import DeadLetters, EventProcessor, PoisonEvent, Record
from smonth_shared.db import Connection
from smonth_shared.events import INBOUND, Envelope
from smonth_shared.kafka import KafkaAccess
from tests.integration.delivery.delivery_kit import case_event, end_offsets, read_topic
from tests.integration.operator_cli import letters_from, operator_environment, safety_month

pytestmark = pytest.mark.integration


class Registry:
    """A consumer whose effect needs the event's province in a registry table: an event for a
    province not entered yet is refused, as a unit missing from intake's registry is."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool

    async def create(self) -> None:
        await self.pool.execute("CREATE TABLE registry (province text PRIMARY KEY)")

    async def enter(self, province: str) -> None:
        await self.pool.execute("INSERT INTO registry (province) VALUES ($1)", province)

    async def remember(self, conn: Connection, event: Envelope) -> None:
        if not await conn.fetchval("SELECT true FROM registry WHERE province = $1", event.subject):
            raise PoisonEvent(f"province {event.subject} is not in the registry")
        await conn.execute(
            "INSERT INTO things (event_id, name) VALUES ($1, $2)", event.id, event.data["title"]
        )


@pytest.fixture
def operator_env(kafka: KafkaAccess, database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line reaches the test's broker as the operator and the test's database."""
    for name, value in operator_environment(kafka, database_url).items():
        monkeypatch.setenv(name, value)


async def test_a_letter_redriven_after_its_cause_is_fixed_takes_effect_once_and_goes_once(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, kafka: KafkaAccess, topic: str,
    operator_env: None,
) -> None:  # fmt: skip
    registry = Registry(pool)
    await registry.create()
    processor = EventProcessor(
        consumer="reports", pool=pool, dead_letters=DeadLetters(producer, source="reports"),
        effects={"case.reported": registry.remember},
    )  # fmt: skip
    started = datetime.now(UTC) - timedelta(seconds=5)
    event = case_event("61", "a batch from a province not entered yet")
    await producer.send_and_wait(topic, key=b"61", value=event.to_bytes(),
                                 headers=[("traceparent", b"00-abc"), ("event-type", b"case.reported")])  # fmt: skip
    [sent] = await read_topic(kafka, topic, 3, until=bool)
    await processor.process([Record.of(sent)])

    [letter] = await letters_from(topic, started)
    assert (letter["event_type"], letter["source"]) == ("case.reported", "reports")
    assert letter["error"] == "case.reported refused: province 61 is not in the registry"
    assert letter["redriven_at"] is None

    await registry.enter("61")
    before = await end_offsets(kafka, topic, 3)
    redriven = await safety_month("deadletters", "redrive", str(letter["id"]))
    assert redriven.exit_code == 0, redriven.output
    assert f"re-driven {letter['id']}: case.reported back to {topic}" in redriven.stdout

    [again] = await read_topic(kafka, topic, 3, since=before, until=bool)
    after = await end_offsets(kafka, topic, 3)
    assert (again.key, again.value) == (b"61", event.to_bytes())
    assert dict(again.headers) == {"traceparent": b"00-abc", "event-type": b"case.reported"}
    await processor.process([Record.of(again)])
    await processor.process([Record.of(again)])  # delivered twice: the inbox drops the repeat
    assert await pool.fetch("SELECT event_id, name FROM things") == [
        (event.id, "a batch from a province not entered yet")
    ]

    [marked] = await letters_from(topic, started)
    assert marked["redriven_at"] is not None
    refused = await safety_month("deadletters", "redrive", str(letter["id"]))
    assert refused.exit_code == 1
    assert f"{letter['id']} was re-driven already" in refused.stderr
    assert await end_offsets(kafka, topic, 3) == after


async def test_an_id_that_names_no_letter_is_refused_naming_the_argument(
    operator_env: None,
) -> None:
    refused = await safety_month("deadletters", "redrive", "0/999999999")

    assert refused.exit_code == 2
    assert "Invalid value for ID...: no dead letter 0/999999999" in refused.output


async def test_a_ministry_systems_letter_without_an_authenticated_system_is_not_redriven(
    producer: AIOKafkaProducer, operator_env: None
) -> None:
    started = datetime.now(UTC) - timedelta(seconds=5)
    event = case_event("61", "sent by a ministry system")
    error = f"case.reported refused: subject: the system is not registered for 61 ({event.id})"
    await DeadLetters(producer, source="intake").send(
        Record(INBOUND.name, 0, 0, b"61", event.to_bytes(), (("authorization", b"Bearer t"),)),
        error,
    )  # fmt: skip
    [letter] = [letter for letter in await letters_from(INBOUND.name, started)
                if letter["error"] == error]  # fmt: skip

    refused = await safety_month("deadletters", "redrive", str(letter["id"]))

    assert refused.exit_code == 1
    said = " ".join(refused.stderr.split())
    assert (
        f"{letter['id']} came from a ministry system on {INBOUND.name} and was refused "
        "before its system was authenticated" in said
    )
    assert "its token is not kept with the dead letter" in said
