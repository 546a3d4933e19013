"""The local infrastructure launcher (safety_month/infra) against the real servers it starts.

Runs under its own profile and ports, so that it clashes neither with a developer's `up` (dev)
nor with the test suite's servers (test).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
import uuid
from collections.abc import Iterator

import asyncpg
import psutil
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from safety_month.infra import InfraError, profile_dir
from safety_month.infra.kafka import jar_dir
from safety_month.infra.stack import Endpoints, LocalStack
from smonth_shared.kafka import KafkaAccess

pytestmark = pytest.mark.integration

PROFILE = "infra-test"
KAFKA_PORT = 29492  # and 29493 for the KRaft controller, 29494 for the broker's own listener
POSTGRES_PORT = 25832


def _stack(log: list[str]) -> LocalStack:
    return LocalStack(PROFILE, kafka_port=KAFKA_PORT, postgres_port=POSTGRES_PORT, log=log.append)


def _pids(stack: LocalStack) -> dict[str, int]:
    return {status.name: status.pid for status in stack.status() if status.pid is not None}


def _family(pid: int) -> set[int]:
    """A server's process and its children (PostgreSQL's backends and workers)."""
    process = psutil.Process(pid)
    return {pid} | {child.pid for child in process.children(recursive=True)}


@pytest.fixture
def fresh_profile() -> Iterator[None]:
    """Each run starts from an empty profile, so that the first-start paths (initdb, Kafka's
    storage format) are exercised too; and nothing is left running afterwards."""
    _stack([]).stop()  # an earlier run that was interrupted
    shutil.rmtree(profile_dir(PROFILE), ignore_errors=True)
    yield
    _stack([]).stop()


async def _kafka_round_trip(kafka: KafkaAccess) -> None:
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        assert [broker["port"] for broker in cluster["brokers"]] == [KAFKA_PORT]
    finally:
        await admin.close()

    topic = f"infra-test-{uuid.uuid4().hex}"  # created on first use (auto.create.topics.enable)
    producer = AIOKafkaProducer(**kafka.client_options())
    await producer.start()
    try:
        await asyncio.wait_for(producer.send_and_wait(topic, b"ping", key=b"k"), 60)
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(topic, **kafka.client_options(), auto_offset_reset="earliest")
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), 60)
        assert (record.key, record.value) == (b"k", b"ping")
    finally:
        await consumer.stop()


async def _postgres_version_and_table(url: str, table: str) -> str:
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"create table {table} (note text)")
        await conn.execute(f"insert into {table} values ('kept')")  # noqa: S608 - our own name
        return await conn.fetchval("select version()")
    finally:
        await conn.close()


async def _postgres_note(url: str, table: str) -> str | None:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(f"select note from {table}")  # noqa: S608 - our own name
    finally:
        await conn.close()


def _assert_gone(pids: set[int]) -> None:
    alive = {pid for pid in pids if psutil.pid_exists(pid)}
    assert not alive, f"processes left behind: {alive}"


async def test_start_serves_reuses_and_stops_without_leftovers(fresh_profile: None) -> None:
    log: list[str] = []
    stack = _stack(log)

    endpoints = stack.start()

    assert endpoints.kafka_bootstrap_servers == f"127.0.0.1:{KAFKA_PORT}"
    assert (endpoints.kafka.security_protocol, endpoints.kafka.username) == (
        "SASL_PLAINTEXT", "operator",
    )  # fmt: skip
    assert endpoints.database_url == f"postgresql://postgres@127.0.0.1:{POSTGRES_PORT}/safety_month"
    await _kafka_round_trip(endpoints.kafka)
    table = f"infra_test_{uuid.uuid4().hex}"
    version = await _postgres_version_and_table(endpoints.database_url, table)
    assert version.startswith("PostgreSQL 18")
    assert stack.start() is endpoints  # idempotent
    jars_mtime = jar_dir().stat().st_mtime_ns
    pids = _pids(stack)
    assert set(pids) == {"kafka", "postgres"}

    # Another launcher of the same profile (a second `up`) reuses the running servers, and on
    # leaving its `with` block leaves them running, as it did not start them.
    with _stack([]) as again:
        assert again.start() == endpoints
        assert _pids(again) == pids
    assert _pids(stack) == pids

    family = _family(pids["kafka"]) | _family(pids["postgres"])
    stack.stop()
    _assert_gone(family)
    assert [status.running for status in stack.status()] == [False, False]

    log.clear()
    endpoints = stack.start()

    assert not [line for line in log if "maven" in line or "initdb" in line or "format" in line]
    assert jar_dir().stat().st_mtime_ns == jars_mtime
    assert await _postgres_note(endpoints.database_url, table) == "kept"
    await _kafka_round_trip(endpoints.kafka)

    family = _family(_pids(stack)["kafka"]) | _family(_pids(stack)["postgres"])
    stack.stop()
    _assert_gone(family)


def test_addresses_from_the_environment_start_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka.example:9092")
    monkeypatch.setenv("DATABASE_URL", "postgresql://app@db.example:5432/safety_month")
    profile = "infra-test-env"
    log: list[str] = []

    with LocalStack(profile, kafka_port=29094, postgres_port=25434, log=log.append) as stack:
        endpoints = stack.start()

    assert endpoints == Endpoints(
        kafka=KafkaAccess("kafka.example:9092"),
        database_url="postgresql://app@db.example:5432/safety_month",
    )
    assert {status.source for status in stack.status()} == {"environment"}
    assert not profile_dir(profile).exists()
    assert all("from the environment" in line for line in log)


@pytest.mark.parametrize("server", ["kafka", "postgres"])
def test_a_port_held_by_another_program_is_refused(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the server under test is started; the other one's address comes from the environment.
    other = "DATABASE_URL" if server == "kafka" else "KAFKA_BOOTSTRAP_SERVERS"
    monkeypatch.setenv(other, "unused:1")
    profile = f"infra-test-busy-{server}"
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        ports = {"kafka_port": port, "postgres_port": 25436}
        if server == "postgres":
            ports = {"kafka_port": 29096, "postgres_port": port}
        stack = LocalStack(profile, **ports, log=lambda _line: None)
        try:
            with pytest.raises(InfraError, match=rf"^{server}: port {port} .* already used by"):
                stack.start()
        finally:
            shutil.rmtree(profile_dir(profile), ignore_errors=True)
