"""Fixtures shared by every test: the real Kafka and PostgreSQL, fresh databases, tokens.

The servers are the project's own (started by `safety_month.infra` in the "test" profile, on
ports apart from `safety-month up`), unless KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL name others,
or SMONTH_TEST_STACK=containers has testcontainers start them on a Docker engine (tests/stacks.py).
"""

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from safety_month.infra.stack import Endpoints
from smonth_shared.kafka import KafkaAccess
from smonth_shared.topics import ensure_topics
from tests.stacks import StackChoiceError, chosen_backend, require_docker, test_stack

JWT_SECRET = "test-secret-0123456789abcdef0123456789"
pytest_plugins = ["tests.sigterm"]


def pytest_configure(config: pytest.Config) -> None:
    """A backend this machine cannot run stops the session before the first test, not at it."""
    try:
        if chosen_backend() == "containers":
            require_docker()
    except StackChoiceError as error:
        raise pytest.UsageError(str(error)) from error


@pytest.fixture(scope="session")
def infra() -> Iterator[Endpoints]:
    with test_stack() as endpoints:
        yield endpoints


@pytest.fixture(scope="session")
def kafka(infra: Endpoints) -> KafkaAccess:
    """The broker as the operator's principal (the tests' own topics need no ACLs of their own).

    The project's topics exist first, as `safety-month up` makes them before any service
    starts: a topic the broker made on first use would have its default partitions."""
    asyncio.run(ensure_topics(infra.kafka))
    return infra.kafka


def _with_database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _drop_database(url: str) -> None:
    name = urlsplit(url).path.lstrip("/")
    assert name.startswith("t_") and name[2:].isalnum(), name
    conn = await asyncpg.connect(_with_database(url, "postgres"))
    try:
        # Without FORCE: a pool some test left open keeps its database (and never finds it
        # dropped under it, which makes asyncpg retry forever); the test data dir is throwaway.
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
    except asyncpg.ObjectInUseError:
        pass
    finally:
        await conn.close()


async def _create_database(server_url: str) -> str:
    name = f"t_{uuid.uuid4().hex[:16]}"
    conn = await asyncpg.connect(_with_database(server_url, "postgres"))
    try:
        # The name is generated above from hex digits; CREATE DATABASE takes no parameters.
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return _with_database(server_url, name)


@pytest.fixture
async def database_url(infra: Endpoints) -> AsyncIterator[str]:
    """A database of its own for each test: no test sees another's rows."""
    url = await _create_database(infra.database_url)
    yield url
    await _drop_database(url)


@pytest.fixture(scope="module")
def module_database_url(infra: Endpoints) -> Iterator[str]:
    url = asyncio.run(_create_database(infra.database_url))
    yield url
    asyncio.run(_drop_database(url))


@pytest.fixture
def unique_topic() -> str:
    """A topic name no other test uses: integration tests of delivery never share a topic."""
    return f"test.{uuid.uuid4().hex[:12]}"


@pytest.fixture
def jwt_secret() -> str:
    return JWT_SECRET
