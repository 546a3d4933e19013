"""Who may do what on the local broker: its principals (SASL/SCRAM-SHA-512) and its ACLs.

Each service has a principal of its own with only the topics and groups it needs (the contract's
table of who writes and reads each topic, `smonth_shared.events.Topic`); each ministry system
registered with the office has one that may write `smonth.inbound.v1` and nothing else; the
operator's principal (the command line's tools, the tests' own clients) is a super user; `admin`
is the broker's own, on a listener of its own (PLAIN), and provisions the rest.

The passwords are made once per profile and kept in `.run/<profile>/kafka-credentials.env`
(mode 600), as `up` keeps the JWT secret.
"""

# confluent-kafka re-exports its admin types with bare imports, which pyright reads as private.
# pyright: reportPrivateImportUsage=false

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclOperation,
    AclPermissionType,
    AdminClient,
    NewTopic,
    ResourcePatternType,
    ResourceType,
    ScramCredentialInfo,
    ScramMechanism,
    UserScramCredentialUpsertion,
)

from safety_month.infra import InfraError
from smonth_shared.events import SERVICES, SYSTEMS, Topic
from smonth_shared.kafka import KafkaAccess
from smonth_shared.topics import EVERY_TOPIC, topic_configs

ADMIN = "admin"
OPERATOR = "operator"
SUPER_USERS = (ADMIN, OPERATOR)
SCRAM_ITERATIONS = 8192
PRINCIPAL_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
TIMEOUT = 30.0
_FILE = "kafka-credentials.env"


@dataclass
class KafkaCredentials:
    """One profile's passwords: the broker's admin, the operator, each service, each system."""

    folder: Path
    passwords: dict[str, str] = field(default_factory=dict, repr=False)

    @classmethod
    def of_profile(cls, folder: Path) -> KafkaCredentials:
        """Those kept in `folder`, with any that are missing made now."""
        path = folder / _FILE
        kept = dict(line.split("=", 1) for line in path.read_text().splitlines()
                    if "=" in line) if path.exists() else {}  # fmt: skip
        credentials = cls(folder, kept)
        for principal in (ADMIN, OPERATOR, *SERVICES):
            credentials.password_of(principal)
        return credentials

    @property
    def systems(self) -> list[str]:
        return sorted(set(self.passwords) - {ADMIN, OPERATOR, *SERVICES})

    def password_of(self, principal: str) -> str:
        if not PRINCIPAL_NAME.fullmatch(principal):
            raise ValueError(f"{principal!r} is not a principal name (lower case, digits, . _ -)")
        if principal not in self.passwords:
            self.passwords[principal] = secrets.token_urlsafe(24)
            self._save()
        return self.passwords[principal]

    def access(self, bootstrap_servers: str, principal: str) -> KafkaAccess:
        return KafkaAccess(
            bootstrap_servers, security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512",
            username=principal, password=self.password_of(principal),
        )  # fmt: skip

    def service_env(self, principal: str) -> dict[str, str]:
        """The settings a service (smonth_shared.settings) reads to be `principal` on the broker."""
        return {"KAFKA_SECURITY_PROTOCOL": "SASL_PLAINTEXT",
                "KAFKA_SASL_MECHANISM": "SCRAM-SHA-512", "KAFKA_SASL_USERNAME": principal,
                "KAFKA_SASL_PASSWORD": self.password_of(principal)}  # fmt: skip

    def _save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / _FILE
        path.touch(mode=0o600)
        path.write_text("".join(f"{name}={value}\n" for name, value in self.passwords.items()))


def acl_bindings(systems: list[str], topics: tuple[Topic, ...] = EVERY_TOPIC) -> list[AclBinding]:
    """Each topic's writers may write it and its readers read it; services may use consumer
    groups (which of them: the topics they may read already decide what a group can see)."""

    def allow(principal: str, kind: ResourceType, name: str, op: AclOperation) -> AclBinding:
        return AclBinding(kind, name, ResourcePatternType.LITERAL, f"User:{principal}", "*", op,
                          AclPermissionType.ALLOW)  # fmt: skip

    def named(roles: tuple[str, ...]) -> list[str]:
        return [p for role in roles for p in (systems if role == SYSTEMS else [role])]

    bindings = [allow(service, ResourceType.GROUP, "*", AclOperation.READ) for service in SERVICES]
    for topic in topics:
        bindings += [allow(p, ResourceType.TOPIC, topic.name, AclOperation.WRITE)
                     for p in named(topic.writers)]  # fmt: skip
        bindings += [allow(p, ResourceType.TOPIC, topic.name, AclOperation.READ)
                     for p in named(topic.readers)]  # fmt: skip
    return bindings


def provision(admin_access: KafkaAccess, credentials: KafkaCredentials) -> None:
    """Makes every principal, topic and ACL the profile needs; idempotent (a few tenths of a
    second), so every start of the launcher runs it."""
    admin = _admin_client(admin_access)
    users = [name for name in credentials.passwords if name != ADMIN]
    _wait_all(admin.alter_user_scram_credentials([
        UserScramCredentialUpsertion(
            name, ScramCredentialInfo(ScramMechanism.SCRAM_SHA_512, SCRAM_ITERATIONS),
            credentials.password_of(name).encode(),
        ) for name in users
    ], request_timeout=TIMEOUT), "principals")  # fmt: skip
    new_topics = [NewTopic(t.name, t.partitions, 1, config=topic_configs(t)) for t in EVERY_TOPIC]
    for name, future in admin.create_topics(new_topics, request_timeout=TIMEOUT).items():
        try:
            future.result()
        except KafkaException as error:
            if error.args[0].name() != "TOPIC_ALREADY_EXISTS":
                raise InfraError(f"kafka: topic {name} not created: {error}") from None
    _wait_all(admin.create_acls(acl_bindings(credentials.systems), request_timeout=TIMEOUT),
              "ACLs")  # fmt: skip


def register_system(admin_access: KafkaAccess, credentials: KafkaCredentials, name: str) -> str:
    """A ministry system's principal, which may write the inbound topic; returns its password."""
    password = credentials.password_of(name)
    provision(admin_access, credentials)
    return password


def _admin_client(access: KafkaAccess) -> AdminClient:
    return AdminClient({
        "bootstrap.servers": access.bootstrap_servers,
        "security.protocol": access.security_protocol, "sasl.mechanism": access.sasl_mechanism,
        "sasl.username": access.username or "", "sasl.password": access.password or "",
    })  # fmt: skip


def _wait_all(futures: Mapping[Any, Future[Any]], what: str) -> None:
    for key, future in futures.items():
        try:
            future.result()
        except KafkaException as error:
            raise InfraError(f"kafka: {what} not provisioned ({key}): {error}") from None


__all__ = ["ADMIN", "OPERATOR", "KafkaCredentials", "acl_bindings", "provision"]
