"""A ministry system's batch refused for a registration that was wrong is not lost: once the
office fixes the registration, `safety-month deadletters redrive` has intake apply it, once, as
that system's, without the token (never kept); a letter refused for its token is not re-driven,
and a system withdrawn meanwhile is refused again.

These tests use the real inbound and redriven topics (the command line sends to the latter by
name), each test's intake reading them from the end they had when it started."""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client import REGISTRY

from smonth_intake.config import IntakeSettings
from smonth_shared.events import AUTHENTICATED_SYSTEM, INBOUND, INBOUND_REDRIVEN
from smonth_shared.kafka import KafkaAccess
from smonth_shared.topics import topic_partitions
from tests.integration.operator_cli import Letter, letters_from, operator_environment, safety_month

pytestmark = pytest.mark.integration

PROGRESS = {"unit": "M16", "as_of": "2021-06-15",
            "indicators": {"drills": 12, "drill_participants": 3400}}  # fmt: skip
SNAPSHOTS = "SELECT submitted_by FROM progress_snapshots WHERE unit = 'M16'"


async def start_at_the_end(kafka: KafkaAccess, group: str, topic: str) -> None:
    """The group's offsets committed at the topic's end: it reads only what comes next."""
    partitions = await topic_partitions(kafka, (topic,))
    consumer = AIOKafkaConsumer(**kafka.client_options(), group_id=group,
                                enable_auto_commit=False)  # fmt: skip
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


@pytest.fixture
async def intake(start_intake: Any, contract_topics: KafkaAccess) -> AsyncIterator[Any]:
    consumer = f"intake-redrive-{uuid.uuid4().hex[:8]}"
    prefix = IntakeSettings.model_fields["consumer_group_prefix"].default
    await start_at_the_end(contract_topics, f"{prefix}.{consumer}", INBOUND.name)
    await start_at_the_end(contract_topics, f"{prefix}.{consumer}.redriven", INBOUND_REDRIVEN.name)
    async with start_intake(inbound_topic=INBOUND.name, inbound_consumer=consumer,
                            inbound_redriven_topic=INBOUND_REDRIVEN.name) as running:  # fmt: skip
        yield running


@pytest.fixture
def operator_env(intake: Any, kafka: KafkaAccess, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in operator_environment(kafka, intake.settings.database_url).items():
        monkeypatch.setenv(name, value)


@pytest.fixture
async def system(intake: Any) -> str:
    """A ministry system registered for M15 only: its report for M16 is refused."""
    client_id = f"sys-{uuid.uuid4().hex[:8]}"
    answer = await intake.client.post("/v1/clients", headers=intake.auth("admin"),
                                      json={"client_id": client_id, "name": "交通运输统计系统",
                                            "units": ["M15"]})  # fmt: skip
    assert answer.status_code == 201, answer.text
    return client_id


def progress_of(source: str) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": "progress.reported", "version": 1, "source": source,
            "time": datetime.now(UTC).isoformat(), "campaign": "2021", "subject": "M16",
            "data": PROGRESS}  # fmt: skip


async def send(
    producer: AIOKafkaProducer, envelope: dict[str, Any], headers: list[tuple[str, bytes]]
) -> None:  # fmt: skip
    await producer.send_and_wait(INBOUND.name, value=json.dumps(envelope).encode(), key=b"M16",
                                 headers=headers)  # fmt: skip


async def the_letter(until: Any, topic: str, since: datetime) -> Letter:
    """The one letter of `topic` dead-lettered since `since`, once it is there."""
    [letter] = await until(lambda: letters_from(topic, since))
    return letter


async def refused_for_m16(
    intake: Any, system: str, producer: AIOKafkaProducer, until: Any, envelope: dict[str, Any]
) -> Letter:  # fmt: skip
    """The letter of `envelope` sent with a token of the system's day: registered for M15 only."""
    started = datetime.now(UTC)
    await send(producer, envelope, intake.vouched(system, ["M15"]))
    return await the_letter(until, INBOUND.name, started)


async def register_for_m16(intake: Any, system: str) -> None:
    """The office fixes the registration, as `safety-month systems units` does."""
    answer = await intake.client.put(f"/v1/clients/{system}/units", json={"units": ["M15", "M16"]},
                                     headers=intake.auth("admin"))  # fmt: skip
    assert answer.status_code == 200, answer.text


async def test_a_batch_refused_for_a_wrong_registration_takes_effect_once_when_redriven(
    intake: Any, system: str, producer: AIOKafkaProducer, until: Any, operator_env: None
) -> None:
    started = datetime.now(UTC)
    letter = await refused_for_m16(intake, system, producer, until, progress_of(system))

    assert letter["error"] == (
        f"progress.reported refused: subject: the system {system} is not registered for M16"
    )
    assert (letter["authenticated_system"], letter["redrivable"]) == (system, True)
    assert not await intake.rows(SNAPSHOTS)

    await register_for_m16(intake, system)
    redriven = await safety_month("deadletters", "redrive", str(letter["id"]))
    assert redriven.exit_code == 0, redriven.output
    assert f"back to {INBOUND_REDRIVEN.name}" in redriven.stdout

    [row] = await until(lambda: intake.rows(SNAPSHOTS))
    assert row["submitted_by"] == f"system:{system}"
    again = await safety_month("deadletters", "redrive", str(letter["id"]))
    assert again.exit_code == 1
    assert f"{letter['id']} was re-driven already" in again.stderr
    assert len(await intake.rows(SNAPSHOTS)) == 1
    assert not await letters_from(INBOUND_REDRIVEN.name, started)


async def test_a_letter_refused_for_its_token_is_not_redriven_and_says_why(
    intake: Any, system: str, producer: AIOKafkaProducer, until: Any, operator_env: None
) -> None:
    started = datetime.now(UTC)
    forged = intake.vouched(system, ["M16"], secret="a-secret-this-intake-does-not-know-of")
    # A sender's own claim of who was authenticated is never kept.
    await send(producer, progress_of(system), [*forged, (AUTHENTICATED_SYSTEM, system.encode())])

    letter = await the_letter(until, INBOUND.name, started)
    assert letter["error"] == "progress.reported refused: authorization: The token is not valid."
    assert (letter["authenticated_system"], letter["redrivable"]) == (None, False)

    await register_for_m16(intake, system)
    refused = await safety_month("deadletters", "redrive", str(letter["id"]))
    assert refused.exit_code == 1
    said = " ".join(refused.stderr.split())
    assert (f"{letter['id']} came from a ministry system on {INBOUND.name} and was refused before "
            "its system was authenticated (progress.reported refused: authorization: The token "
            "is not valid.)") in said  # fmt: skip
    assert "send it again with a valid token" in said
    listed = await safety_month("deadletters", "list", "--since", started.isoformat())
    assert "no: token refused" in listed.stdout


async def test_a_system_withdrawn_before_the_redrive_is_refused_again_to_the_dead_letters(
    intake: Any, system: str, producer: AIOKafkaProducer, until: Any, operator_env: None
) -> None:
    started = datetime.now(UTC)
    letter = await refused_for_m16(intake, system, producer, until, progress_of(system))

    await register_for_m16(intake, system)
    withdrawn = await intake.client.post(f"/v1/clients/{system}/withdraw",
                                         headers=intake.auth("admin"))  # fmt: skip
    assert withdrawn.status_code == 200, withdrawn.text
    redriven = await safety_month("deadletters", "redrive", str(letter["id"]))
    assert redriven.exit_code == 0, redriven.output

    refused = await the_letter(until, INBOUND_REDRIVEN.name, started)
    assert (
        refused["error"] == f"progress.reported refused: source: the system {system} is withdrawn"
    )
    assert (refused["source"], refused["authenticated_system"]) == ("intake", system)
    assert not await intake.rows(SNAPSHOTS)


async def test_a_batch_the_system_sent_again_itself_is_not_applied_twice_by_its_redrive(
    intake: Any, system: str, producer: AIOKafkaProducer, until: Any, operator_env: None
) -> None:
    started = datetime.now(UTC)
    envelope = progress_of(system)
    letter = await refused_for_m16(intake, system, producer, until, envelope)
    await register_for_m16(intake, system)
    # The system's next token: the change refused those of its second (see client_credentials).
    next_token = intake.vouched(
        system, ["M15", "M16"], issued=datetime.now(UTC) + timedelta(seconds=1)
    )
    await send(producer, envelope, next_token)
    await until(lambda: intake.rows(SNAPSHOTS))

    redriven = await safety_month("deadletters", "redrive", str(letter["id"]))
    assert redriven.exit_code == 0, redriven.output

    # The redriven topic's consumer keeps the inbound topic's inbox: it drops the envelope.
    labels = {"consumer": intake.settings.inbound_consumer}
    await until(lambda: REGISTRY.get_sample_value("smonth_inbox_duplicates_total", labels))
    assert len(await intake.rows(SNAPSHOTS)) == 1
    assert not await letters_from(INBOUND_REDRIVEN.name, started)
