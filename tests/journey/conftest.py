"""The four services as separate processes against the test Kafka and a database of their own."""

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from safety_month.demo.sinks import MailSink, SmsSink, free_port
from safety_month.infra.stack import Endpoints
from safety_month.supervisor import SERVICES, Supervisor
from smonth_shared.auth import Role, issue_token
from smonth_shared.kafka import KafkaAccess
from tests.journey.journey_kit import caught_up


@dataclass
class RunningSystem:
    supervisor: Supervisor
    jwt_secret: str
    mail: MailSink
    sms: SmsSink
    logs: list[str]
    kafka: KafkaAccess
    group_prefix: str

    def wait_until_caught_up(self, consumer: str, *topics: str, timeout: float = 60.0) -> None:
        """Until `consumer` has committed every record now on `topics`: the services share the
        test broker with earlier tests, whose events a fresh service first works through."""
        group = f"{self.group_prefix}.{consumer}"
        asyncio.run(caught_up(self.kafka, group, topics, timeout))

    def recent_logs(self, service: str, lines: int = 40) -> str:
        """The end of a service's log, for the message of a failing assertion."""
        return "\n".join([line for line in self.logs if line.startswith(service)][-lines:])

    def url(self, service: str) -> str:
        return self.supervisor.url(service)

    def token(self, role: Role, unit: str | None = None) -> str:
        return issue_token(self.jwt_secret, role=role, unit=unit)

    def auth(self, role: Role, unit: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(role, unit)}"}


@pytest.fixture(scope="module")
def running_system(
    infra: Endpoints, module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[RunningSystem]:
    folder: Path = tmp_path_factory.mktemp("system")
    secret = "journey-secret-0123456789abcdef0123456789"
    logs: list[str] = []
    group_prefix = f"journey-{uuid.uuid4().hex[:8]}"
    with MailSink(folder / "mail") as mail, SmsSink(folder / "sms.jsonl") as sms:
        env = {
            **infra.as_env(),
            "DATABASE_URL": module_database_url,
            "SAFETY_MONTH_JWT_SECRET": secret,
            "TIP_CONTACT_KEY": Fernet.generate_key().decode(),
            "BLOB_DIR": str(folder / "blobs"),
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(mail.port), "SMS_GATEWAY_URL": sms.url,
            # Groups of their own: the services read the shared test broker from its beginning.
            "CONSUMER_GROUP_PREFIX": group_prefix,
        }  # fmt: skip
        supervisor = Supervisor(
            env, ports={name: free_port() for name in SERVICES}, own_env=infra.own_env(),
            echo=logs.append,
        )  # fmt: skip
        try:
            supervisor.migrate()
            supervisor.start()
            supervisor.wait_ready(timeout=90)
            yield RunningSystem(supervisor, secret, mail, sms, logs, infra.kafka,
                                group_prefix)  # fmt: skip
        finally:
            supervisor.stop()
