"""The facade: one profile's Kafka broker and PostgreSQL server, started and stopped together.

    with LocalStack("test") as stack:          # or stack.start() ... stack.stop()
        endpoints = stack.start()              # idempotent
        os.environ.update(endpoints.as_env())

A server whose address the environment already gives (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL) is
not started: the facade returns that address and never stops it.
"""

from __future__ import annotations

import os
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from types import TracebackType
from typing import Literal

from safety_month.infra import Log
from safety_month.infra.kafka import KafkaServer
from safety_month.infra.kafka_access import OPERATOR, KafkaCredentials, register_system
from safety_month.infra.postgres import DEFAULT_DATABASE, PostgresServer
from smonth_shared.events import SERVICES
from smonth_shared.kafka import KafkaAccess

KAFKA_ENV = "KAFKA_BOOTSTRAP_SERVERS"
DATABASE_ENV = "DATABASE_URL"

# Kafka's client port and PostgreSQL's port per profile; the KRaft controller listens on the
# Kafka port + 1.
PROFILE_PORTS: dict[str, tuple[int, int]] = {
    "dev": (9092, 5432),
    "test": (19092, 15432),
    "demo": (9192, 5532),
}


@dataclass(frozen=True)
class Endpoints:
    kafka: KafkaAccess  # as the operator: a super user of the launcher's broker
    database_url: str
    # The launcher's principals; None for a cluster the environment names (its access is
    # the environment's, for every service alike).
    kafka_credentials: KafkaCredentials | None = None

    @property
    def kafka_bootstrap_servers(self) -> str:
        return self.kafka.bootstrap_servers

    def as_env(self) -> dict[str, str]:
        """The environment variables the services read (see smonth_shared.settings), with the
        operator's principal (for the command line's tools)."""
        return {DATABASE_ENV: self.database_url, **kafka_env(self.kafka)}

    def service_env(self, service: str) -> dict[str, str]:
        """The same, with the service's own principal on the launcher's broker."""
        return {**self.as_env(), **self.own_env().get(service, {})}

    def own_env(self) -> dict[str, dict[str, str]]:
        """Each service's principal, as its settings read it (none for a cluster the
        environment names: every service reaches it as the environment says)."""
        if self.kafka_credentials is None:
            return {}
        return {name: self.kafka_credentials.service_env(name) for name in SERVICES}


def kafka_env(kafka: KafkaAccess) -> dict[str, str]:
    env = {KAFKA_ENV: kafka.bootstrap_servers, "KAFKA_SECURITY_PROTOCOL": kafka.security_protocol}
    if kafka.uses_sasl:
        env |= {"KAFKA_SASL_MECHANISM": kafka.sasl_mechanism,
                "KAFKA_SASL_USERNAME": kafka.username or "",
                "KAFKA_SASL_PASSWORD": kafka.password or ""}  # fmt: skip
    for name, value in (("KAFKA_SSL_CAFILE", kafka.ssl_cafile),
                        ("KAFKA_SSL_CERTFILE", kafka.ssl_certfile),
                        ("KAFKA_SSL_KEYFILE", kafka.ssl_keyfile)):  # fmt: skip
        if value:
            env[name] = value
    return env


def kafka_from_env(bootstrap_servers: str) -> KafkaAccess:
    """A cluster the environment names, reached as the environment says (the same settings as
    the services': KAFKA_SECURITY_PROTOCOL, KAFKA_SASL_USERNAME...)."""
    get = os.environ.get
    return KafkaAccess(
        bootstrap_servers,
        security_protocol=get("KAFKA_SECURITY_PROTOCOL", "PLAINTEXT"),  # type: ignore[arg-type]
        sasl_mechanism=get("KAFKA_SASL_MECHANISM", "SCRAM-SHA-512"),  # type: ignore[arg-type]
        username=get("KAFKA_SASL_USERNAME"), password=get("KAFKA_SASL_PASSWORD"),
        ssl_cafile=get("KAFKA_SSL_CAFILE"), ssl_certfile=get("KAFKA_SSL_CERTFILE"),
        ssl_keyfile=get("KAFKA_SSL_KEYFILE"),
    )  # fmt: skip


@dataclass(frozen=True)
class ServerStatus:
    name: Literal["kafka", "postgres"]
    source: Literal["local", "environment"]  # run by this launcher, or given by the environment
    running: bool  # for "environment": unknown, reported as True
    pid: int | None
    address: str


class LocalStack:
    """One profile's servers. `start()` and `stop()` are synchronous and idempotent."""

    def __init__(
        self,
        profile: str = "dev",
        *,
        kafka_port: int | None = None,
        postgres_port: int | None = None,
        database: str = DEFAULT_DATABASE,
        log: Log = print,
        timeout: float = 90.0,
    ) -> None:
        default_kafka, default_postgres = _default_ports(profile, kafka_port, postgres_port)
        self.profile = profile
        self.log = log
        self.timeout = timeout
        port = kafka_port or default_kafka
        self.kafka = KafkaServer(profile, port, port + 1, log=log)
        self.postgres = PostgresServer(
            profile, postgres_port or default_postgres, database=database, log=log
        )
        self._endpoints: Endpoints | None = None
        self._launched: list[KafkaServer | PostgresServer] = []

    # --- public ------------------------------------------------------------------------------

    def start(self) -> Endpoints:
        """Start what the environment does not give, wait until it is ready, return addresses.
        A server of this profile that already runs (an earlier `up`) is reused."""
        if self._endpoints is not None:
            return self._endpoints
        kafka_env, database_env = _from_env(KAFKA_ENV), _from_env(DATABASE_ENV)
        wanted: list[KafkaServer | PostgresServer] = []
        if kafka_env is None:
            wanted.append(self.kafka)
        if database_env is None:
            wanted.append(self.postgres)
        for name, value in (("kafka", kafka_env), ("postgres", database_env)):
            if value is not None:
                self.log(f"{name}: using {value} from the environment, not starting one")
        self._start_all(wanted)
        self._endpoints = Endpoints(
            kafka=kafka_from_env(kafka_env) if kafka_env else self.kafka.access(OPERATOR),
            database_url=database_env or self.postgres.database_url,
            kafka_credentials=None if kafka_env else self.kafka.credentials,
        )
        return self._endpoints

    def register_system(self, name: str) -> KafkaAccess:
        """A ministry system's own principal on this profile's broker: it may write the inbound
        topic and nothing else."""
        register_system(self.kafka.admin_access, self.kafka.credentials, name)
        return self.kafka.access(name)

    def stop(self) -> None:
        """Stop this profile's servers, whoever started them (except those the environment
        gives): Kafka first, as its clients' offsets and the services' outbox relays need
        PostgreSQL until the end."""
        for server, env in ((self.kafka, KAFKA_ENV), (self.postgres, DATABASE_ENV)):
            if _from_env(env) is None:
                server.stop()
        self._launched.clear()
        self._endpoints = None

    def status(self) -> list[ServerStatus]:
        kafka_env, database_env = _from_env(KAFKA_ENV), _from_env(DATABASE_ENV)
        kafka, postgres = self.kafka.status(), self.postgres.status()
        return [
            ServerStatus("kafka", "environment", True, None, kafka_env)
            if kafka_env is not None
            else ServerStatus("kafka", "local", kafka.running, kafka.pid, kafka.bootstrap_servers),
            ServerStatus("postgres", "environment", True, None, database_env)
            if database_env is not None
            else ServerStatus(
                "postgres", "local", postgres.running, postgres.pid, postgres.database_url
            ),
        ]

    def __enter__(self) -> LocalStack:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Only what this object launched: a server reused from an earlier `up` keeps running.
        self._stop_launched()

    # --- internals ---------------------------------------------------------------------------

    def _start_all(self, servers: list[KafkaServer | PostgresServer]) -> None:
        """Start the servers side by side (the JVM takes seconds, initdb too); if one fails, stop
        the ones launched here and raise the first error."""
        if not servers:
            return
        with ThreadPoolExecutor(max_workers=len(servers), thread_name_prefix="infra") as pool:
            futures = [(server, pool.submit(server.start, self.timeout)) for server in servers]
            errors = [_launch_outcome(server, future, self._launched) for server, future in futures]
        failure = next((error for error in errors if error is not None), None)
        if failure is not None:
            self._stop_launched()
            raise failure

    def _stop_launched(self) -> None:
        for server in (self.kafka, self.postgres):
            if server in self._launched:
                server.stop()
        self._launched.clear()
        self._endpoints = None


def _launch_outcome(
    server: KafkaServer | PostgresServer,
    future: Future[bool],
    launched: list[KafkaServer | PostgresServer],
) -> BaseException | None:
    try:
        if future.result():
            launched.append(server)
    except BaseException as error:  # handed back to _start_all, which re-raises it
        return error
    return None


def _default_ports(
    profile: str, kafka_port: int | None, postgres_port: int | None
) -> tuple[int, int]:
    if profile in PROFILE_PORTS:
        return PROFILE_PORTS[profile]
    if kafka_port is None or postgres_port is None:
        raise ValueError(
            f"profile {profile!r} has no default ports (known: {', '.join(PROFILE_PORTS)}); "
            "give kafka_port and postgres_port"
        )
    return kafka_port, postgres_port


def _from_env(name: str) -> str | None:
    value = os.environ.get(name, "").strip()
    return value or None


__all__ = ["PROFILE_PORTS", "Endpoints", "LocalStack", "ServerStatus"]
