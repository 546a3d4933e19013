"""The operator's command line as the integration tests run it: against the test's broker (as
the operator's principal) and the test's database."""

import asyncio
import json
from datetime import datetime

from typer.testing import CliRunner, Result

from safety_month.cli import app
from safety_month.infra.stack import DATABASE_ENV, KAFKA_ENV, kafka_env
from smonth_shared.kafka import KafkaAccess

Letter = dict[str, str | bool | None]


def operator_environment(kafka: KafkaAccess, database_url: str) -> dict[str, str]:
    """What the command line reads to reach them (set it with monkeypatch.setenv)."""
    return {**kafka_env(kafka), KAFKA_ENV: kafka.bootstrap_servers, DATABASE_ENV: database_url}


async def safety_month(*args: str) -> Result:
    """The command line as an operator runs it (in a thread: it runs its own event loop)."""
    return await asyncio.to_thread(CliRunner().invoke, app, list(args))


async def letters_from(topic: str, since: datetime) -> list[Letter]:
    """`deadletters list --json`: the letters of `topic` since `since`."""
    listed = await safety_month("deadletters", "list", "--json", "--since", since.isoformat())
    assert listed.exit_code == 0, listed.output
    return [letter for letter in json.loads(listed.stdout) if letter["original_topic"] == topic]
