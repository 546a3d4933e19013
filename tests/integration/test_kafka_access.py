"""The broker refuses strangers: SASL/SCRAM principals and ACLs, as the launcher provisions them.

Against the test profile's broker (the same provisioning as `safety-month up` and `demo`): each
service may write only the topics it owns and read only those it consumes; only registered
ministry systems may write the inbound topic, and only intake reads it; only the operator
writes the topic of re-driven inbound envelopes.
"""

import asyncio
import uuid
from dataclasses import replace

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from safety_month.infra.kafka_access import KafkaCredentials, register_system
from safety_month.infra.stack import Endpoints
from smonth_shared.events import COMPLIANCE, INBOUND, INBOUND_REDRIVEN, TIP
from smonth_shared.kafka import KafkaAccess
from tests.stacks import chosen_backend

pytestmark = pytest.mark.integration

REFUSAL_WITHIN = 60.0  # a client gives up on a refused connection after its own retries


@pytest.fixture(autouse=True)
def _launchers_broker() -> None:
    if chosen_backend() == "containers":
        pytest.skip("the containers' broker has no SASL principals: the ACLs are the launcher's")


def credentials(infra: Endpoints) -> KafkaCredentials:
    assert infra.kafka_credentials is not None, "the test broker is the launcher's own"
    return infra.kafka_credentials


def as_principal(infra: Endpoints, principal: str) -> KafkaAccess:
    return credentials(infra).access(infra.kafka_bootstrap_servers, principal)


async def send_once(kafka: KafkaAccess, topic: str) -> None:
    producer = AIOKafkaProducer(**kafka.client_options(), request_timeout_ms=20_000)
    try:
        await producer.start()
        await producer.send_and_wait(topic, b"{}", key=b"test")
    finally:
        await producer.stop()


async def test_a_producer_without_credentials_is_refused(infra: Endpoints) -> None:
    anonymous = KafkaAccess(infra.kafka_bootstrap_servers)
    with pytest.raises(KafkaError):
        async with asyncio.timeout(REFUSAL_WITHIN):
            await send_once(anonymous, INBOUND.name)


async def test_a_wrong_password_is_refused(infra: Endpoints) -> None:
    impostor = replace(as_principal(infra, "intake"), password="not-the-password")
    with pytest.raises(KafkaError):
        async with asyncio.timeout(REFUSAL_WITHIN):
            await send_once(impostor, TIP.name)


async def test_intake_may_not_write_the_compliance_topic(infra: Endpoints) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await send_once(as_principal(infra, "intake"), COMPLIANCE.name)


async def test_notify_may_not_write_the_tip_topic(infra: Endpoints) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await send_once(as_principal(infra, "notify"), TIP.name)


async def test_a_service_may_not_write_the_inbound_topic(infra: Endpoints) -> None:
    with pytest.raises(TopicAuthorizationFailedError):
        await send_once(as_principal(infra, "exposure"), INBOUND.name)


async def test_each_service_writes_what_it_owns(infra: Endpoints) -> None:
    await send_once(as_principal(infra, "intake"), TIP.name)
    await send_once(as_principal(infra, "exposure"), COMPLIANCE.name)


async def test_a_registered_system_writes_the_inbound_topic_and_reads_nothing(
    infra: Endpoints,
) -> None:
    name = f"ministry-test-{uuid.uuid4().hex[:8]}"
    register_system(infra.kafka, credentials(infra), name)
    system = as_principal(infra, name)

    await send_once(system, INBOUND.name)
    with pytest.raises(TopicAuthorizationFailedError):
        await send_once(system, TIP.name)
    assert not await can_read(system, INBOUND.name)


async def test_only_intake_reads_the_inbound_topic(infra: Endpoints) -> None:
    assert await can_read(as_principal(infra, "intake"), INBOUND.name)
    assert not await can_read(as_principal(infra, "reports"), INBOUND.name)


async def test_only_the_operator_writes_the_redriven_inbound_topic_and_intake_reads_it(
    infra: Endpoints,
) -> None:
    """What intake takes as the sender of a re-driven envelope is only the operator's to say."""
    name = f"ministry-test-{uuid.uuid4().hex[:8]}"
    register_system(infra.kafka, credentials(infra), name)

    for principal in (name, "intake", "reports"):
        with pytest.raises(TopicAuthorizationFailedError):
            await send_once(as_principal(infra, principal), INBOUND_REDRIVEN.name)
    assert await can_read(as_principal(infra, "intake"), INBOUND_REDRIVEN.name)
    assert not await can_read(as_principal(infra, name), INBOUND_REDRIVEN.name)


async def can_read(kafka: KafkaAccess, topic: str) -> bool:
    """Whether the broker lets `kafka` join a group on `topic` and be given its partitions."""
    consumer = AIOKafkaConsumer(topic, **kafka.client_options(), enable_auto_commit=False,
                                group_id=f"test.access.{uuid.uuid4().hex[:8]}")  # fmt: skip
    try:
        await consumer.start()
        async with asyncio.timeout(REFUSAL_WITHIN):
            while not consumer.assignment():
                await consumer.getmany(timeout_ms=200)
        return True
    except (TopicAuthorizationFailedError, GroupAuthorizationFailedError):
        return False
    finally:
        await consumer.stop()
