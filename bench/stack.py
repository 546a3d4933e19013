"""Where the benchmark runs: the servers, a fresh database per figure, and the services as processes.

Without KAFKA_BOOTSTRAP_SERVERS and DATABASE_URL it runs on a profile of its own ("bench", Kafka
on 29392, PostgreSQL on 25632) whose data is wiped at start, so that every run starts alike; with
them it uses those servers and touches only databases and topics it creates. SMONTH_BENCH_PROFILE
(name:kafka_port:postgres_port) names another profile, so that two runs can go side by side.
"""

import asyncio
import contextlib
import os
import shutil
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import psutil
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError
from cryptography.fernet import Fernet

from safety_month.demo.sinks import MailSink, SmsSink, free_port
from safety_month.infra import profile_dir
from safety_month.infra.stack import DATABASE_ENV, KAFKA_ENV, Endpoints, LocalStack, kafka_from_env
from safety_month.supervisor import SERVICES, ServiceFailed, Supervisor
from smonth_shared.auth import Role, issue_token
from smonth_shared.kafka import KafkaAccess

PROFILE = "bench"
KAFKA_PORT = 29392
POSTGRES_PORT = 25632
PROFILE_ENV = "SMONTH_BENCH_PROFILE"
JWT_SECRET = "bench-secret-0123456789abcdef0123456789abcdef"  # noqa: S105 - the bench's own
# The public's tips per address a minute: every tip of the benchmark comes from 127.0.0.1.
UNLIMITED_RATE = "1000000000"


def uses_environment() -> bool:
    return bool(os.environ.get(KAFKA_ENV, "").strip() and os.environ.get(DATABASE_ENV, "").strip())


def bench_profile(value: str) -> tuple[str, int, int]:
    """The launcher profile to run on: the bench's own, or the one `value` names."""
    if not value.strip():
        return PROFILE, KAFKA_PORT, POSTGRES_PORT
    name, _, ports = value.strip().partition(":")
    kafka_port, _, postgres_port = ports.partition(":")
    if not (name and kafka_port.isdigit() and postgres_port.isdigit()) or name == "test":
        raise SystemExit(f"{PROFILE_ENV}={value!r}: must be name:kafka_port:postgres_port, "
                         "with a name other than test (the test suite's)")  # fmt: skip
    return name, int(kafka_port), int(postgres_port)


@contextlib.contextmanager
def servers(log: "Log") -> Iterator[Endpoints]:
    """The servers of the run: the environment's, or the bench profile's, wiped and started."""
    if uses_environment():
        log(f"using the servers of the environment: {os.environ[KAFKA_ENV]}")
        yield Endpoints(kafka_from_env(os.environ[KAFKA_ENV].strip()),
                        os.environ[DATABASE_ENV].strip())  # fmt: skip
        return
    profile, kafka_port, postgres_port = bench_profile(os.environ.get(PROFILE_ENV, ""))
    stack = LocalStack(profile, kafka_port=kafka_port, postgres_port=postgres_port, log=log)
    stack.stop()  # a run that was killed may have left them running
    for folder in ("kafka-data", "pgdata"):
        shutil.rmtree(profile_dir(profile) / folder, ignore_errors=True)
    try:
        yield stack.start()
    finally:
        stack.stop()


class Log:
    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.started = time.monotonic()

    def __call__(self, line: str) -> None:
        if self.verbose:
            print(f"[{time.monotonic() - self.started:7.1f} s] {line}", flush=True)


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


@contextlib.asynccontextmanager
async def fresh_database(server_url: str, label: str) -> AsyncIterator[str]:
    """A database of its own for a figure, dropped afterwards."""
    name = f"bench_{label}_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(_with_database(server_url, "postgres"))
    try:
        # The name is made above from a label of ours and hex digits.
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield _with_database(server_url, name)
    finally:
        admin = await asyncpg.connect(_with_database(server_url, "postgres"))
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def group_coordinator_ready(kafka: KafkaAccess, within: float = 60.0) -> None:
    """A broker just formatted has no group coordinator until the offsets topic exists; a
    consumer group asking for one creates it."""
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    deadline = time.monotonic() + within
    try:
        while True:
            try:
                await admin.find_coordinator("bench.warm-up")
                return
            except KafkaError:
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.2)
    finally:
        await admin.close()


async def create_topic(kafka: KafkaAccess, prefix: str, partitions: int = 12) -> str:
    """A topic of the figure's own, so that no round reads another's records."""
    name = f"bench.{prefix}.{uuid.uuid4().hex[:10]}"
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name, num_partitions=partitions, replication_factor=1)])
        for _ in range(100):  # until every partition has its leader: no producer waits on it
            [described] = await admin.describe_topics([name])
            found = described["partitions"]
            if described["error_code"] == 0 and len(found) == partitions and all(
                    p["leader"] >= 0 for p in found):  # fmt: skip
                break
            await asyncio.sleep(0.05)
    finally:
        await admin.close()
    return name


async def delete_topics(kafka: KafkaAccess, *names: str) -> None:
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        with contextlib.suppress(Exception):
            await admin.delete_topics(list(names))
    finally:
        await admin.close()


@dataclass
class RssSampler:
    """Samples the resident memory of each service process twice a second, in a thread."""

    pids: dict[str, int]
    interval: float = 0.5
    samples: dict[str, list[tuple[float, int]]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, daemon=True, name="rss")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _run(self) -> None:
        processes = {name: psutil.Process(pid) for name, pid in self.pids.items()}
        while not self._stop.is_set():
            now = time.monotonic()
            for name, process in processes.items():
                with contextlib.suppress(psutil.Error):
                    self.samples.setdefault(name, []).append((now, process.memory_info().rss))
            self._stop.wait(self.interval)

    def peak(self, name: str, since: float = 0.0, until: float = float("inf")) -> int:
        return max((rss for at, rss in self.samples.get(name, []) if since <= at <= until),
                   default=0)  # fmt: skip

    def window(self, name: str, since: float, until: float) -> list[int]:
        return [rss for at, rss in self.samples.get(name, []) if since <= at <= until]


class System:
    """The four services as `safety-month up` runs them (separate processes, migrations first) on
    a database of their own; the public's rate limit raised, everything else as shipped."""

    def __init__(self, endpoints: Endpoints, database_url: str, folder: Path, log: Log,
                 services: tuple[str, ...] = tuple(SERVICES),
                 extra_env: dict[str, str] | None = None) -> None:  # fmt: skip
        self.endpoints = endpoints
        self.extra_env = extra_env or {}
        self.database_url = database_url
        self.folder = folder
        self.log = log
        self.logs: deque[str] = deque(maxlen=400)
        self.ports = {name: free_port() for name in services}
        self._stack = contextlib.ExitStack()
        self.supervisor: Supervisor | None = None
        self.sampler: RssSampler | None = None
        self.idle_rss: dict[str, int] = {}

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def auth(self, role: Role, unit: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(JWT_SECRET, role=role, unit=unit)}"}

    def start(self) -> None:
        mail = self._stack.enter_context(MailSink(self.folder / "mail"))
        sms = self._stack.enter_context(SmsSink(self.folder / "sms.jsonl"))
        env = {
            **self.endpoints.as_env(), DATABASE_ENV: self.database_url,
            "SAFETY_MONTH_JWT_SECRET": JWT_SECRET, "TIP_CONTACT_KEY": Fernet.generate_key().decode(),
            "BLOB_DIR": str(self.folder / "blobs"), "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(mail.port), "SMS_GATEWAY_URL": sms.url,
            "TIP_RATE_PER_MINUTE": UNLIMITED_RATE, "LOG_LEVEL": "WARNING", **self.extra_env,
        }  # fmt: skip
        self.supervisor = Supervisor(env, ports=self.ports, own_env=self.endpoints.own_env(),
                                     echo=self.logs.append)  # fmt: skip
        self.supervisor.migrate()
        self.supervisor.start()
        try:
            self.supervisor.wait_ready(timeout=120)
        except ServiceFailed as failure:
            raise ServiceFailed(f"{failure}\n" + "\n".join(list(self.logs)[-60:])) from None
        pids = {name: process.pid for name, process in self.supervisor._processes.items()}
        time.sleep(1.0)  # settle: the first connections, the consumer groups joining
        self.idle_rss = {name: psutil.Process(pid).memory_info().rss for name, pid in pids.items()}
        self.sampler = RssSampler(pids)
        self.sampler.start()
        self.log(f"services ready: {', '.join(f'{n}:{p}' for n, p in self.ports.items())}")

    def stop(self) -> None:
        if self.sampler:
            self.sampler.stop()
        if self.supervisor:
            self.supervisor.stop()
        self._stack.close()

    def recent_logs(self, lines: int = 40) -> str:
        return "\n".join(list(self.logs)[-lines:])
