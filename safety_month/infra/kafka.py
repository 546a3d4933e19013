"""A single-node Kafka broker (KRaft: broker and controller in one JVM) run from Maven-fetched jars.

No Kafka distribution and no Docker: `deploy/kafka/pom.xml` names the jars, Maven copies them once
into `.run/kafka/libs`, and `java -cp 'libs/*' kafka.Kafka` runs the broker.

It refuses strangers: clients authenticate with SASL/SCRAM-SHA-512 on the client port and are
held to their ACLs (`kafka_access`); the broker's own admin uses PLAIN on an internal listener
(the client port + 2) and the controller's (+ 1), where SCRAM cannot serve before the metadata
that holds its credentials is loaded.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from safety_month.infra import (
    HOST,
    InfraError,
    Log,
    ensure_ports_free,
    exit_code,
    file_lock,
    log_size,
    poll_until,
    port_accepts,
    process_alive,
    process_matches,
    profile_dir,
    repo_root,
    run_dir,
    run_sync,
    run_tool,
    spawn,
    tail,
    terminate,
)
from safety_month.infra.kafka_access import ADMIN, SUPER_USERS, KafkaCredentials, provision
from smonth_shared.kafka import KafkaAccess

MAIN_CLASS = "kafka.Kafka"
HEAP = "512m"
MAVEN_TIMEOUT = 900.0  # a fresh CI machine downloads ~45 MB of jars
FORMAT_TIMEOUT = 120.0
STOP_GRACE = 30.0  # a controlled shutdown of a one-node cluster takes a few seconds

_POM_HASH_FILE = ".pom-sha256"


@dataclass(frozen=True)
class KafkaStatus:
    running: bool
    pid: int | None
    bootstrap_servers: str


def jar_dir() -> Path:
    """The jar cache, shared by all profiles."""
    return run_dir() / "kafka" / "libs"


def ensure_jars(log: Log) -> Path:
    """The folder of Kafka's jars; fetched with Maven on first use or when the pom changed."""
    libs = jar_dir()
    pom = repo_root() / "deploy" / "kafka" / "pom.xml"
    wanted = hashlib.sha256(pom.read_bytes()).hexdigest()
    with file_lock(libs.parent / ".jars.lock"):
        if _cached_hash(libs) == wanted:
            return libs
        _fetch_jars(pom, libs, wanted, log)
    return libs


def _cached_hash(libs: Path) -> str | None:
    try:
        return (libs / _POM_HASH_FILE).read_text().strip()
    except OSError:
        return None


def _fetch_jars(pom: Path, libs: Path, pom_hash: str, log: Log) -> None:
    mvn = shutil.which("mvn")
    if mvn is None:
        raise InfraError("kafka: Maven (mvn) is needed once to fetch Kafka's jars; install it")
    log("kafka: fetching jars with maven (first start only)")
    started = time.monotonic()
    # Into a fresh folder that replaces the cache only when complete, so that an interrupted
    # download is never mistaken for a cache.
    staging = libs.with_name("libs.partial")
    shutil.rmtree(staging, ignore_errors=True)
    maven_log = libs.parent / "maven.log"
    result = run_tool(
        [mvn, "-q", "-B", "-Dstyle.color=never", "-f", str(pom),
         "dependency:copy-dependencies", f"-DoutputDirectory={staging}"],
        log_file=maven_log,
        timeout=MAVEN_TIMEOUT,
    )  # fmt: skip
    if result.returncode != 0 or not any(staging.glob("kafka_*.jar")):
        raise InfraError(
            f"kafka: maven could not fetch the jars (exit {result.returncode}); "
            f"last lines of {maven_log}:\n{tail(maven_log)}"
        )
    (staging / _POM_HASH_FILE).write_text(pom_hash + "\n")
    shutil.rmtree(libs, ignore_errors=True)
    staging.rename(libs)
    log(f"kafka: jars ready in {libs} in {time.monotonic() - started:.1f} s")


def java() -> str:
    home = os.environ.get("JAVA_HOME", "").strip()
    if home and (Path(home) / "bin" / "java").is_file():
        return str(Path(home) / "bin" / "java")
    found = shutil.which("java")
    if found is None:
        raise InfraError("kafka: java not found; install Java 17 or newer or set JAVA_HOME")
    return found


def new_cluster_id() -> str:
    """What `kafka-storage.sh random-uuid` prints (16 random bytes, URL-safe base64), made here
    to save a JVM start. Kafka avoids ids starting with '-' as they read like options."""
    while True:
        cluster_id = base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


class KafkaServer:
    """One profile's broker: 127.0.0.1:<port> for clients, 127.0.0.1:<controller_port> for KRaft."""

    @functools.cached_property
    def credentials(self) -> KafkaCredentials:
        """Made (and kept in the profile's folder) only for a broker this launcher runs: a
        cluster the environment names has its own."""
        return KafkaCredentials.of_profile(self.home)

    def __init__(self, profile: str, port: int, controller_port: int, *, log: Log = print) -> None:
        self.profile = profile
        self.port = port
        self.controller_port = controller_port
        self.internal_port = port + 2
        self.log = log
        home = profile_dir(profile)
        self.home = home
        self.data_dir = home / "kafka-data"
        self.logs_dir = home / "logs"
        self.properties = home / "kafka.properties"
        self.pid_file = home / "kafka.pid"
        self.server_log = self.logs_dir / "kafka-server.log"
        self.stdout_log = self.logs_dir / "kafka.out"
        self._lock = home / ".kafka.lock"
        self._log_marks: dict[Path, int] = {}  # log sizes at launch, for error messages

    @property
    def bootstrap_servers(self) -> str:
        return f"{HOST}:{self.port}"

    def access(self, principal: str) -> KafkaAccess:
        """How `principal` reaches this broker."""
        return self.credentials.access(self.bootstrap_servers, principal)

    @property
    def admin_access(self) -> KafkaAccess:
        return KafkaAccess(
            f"{HOST}:{self.internal_port}", security_protocol="SASL_PLAINTEXT",
            sasl_mechanism="PLAIN", username=ADMIN, password=self.credentials.password_of(ADMIN),
        )  # fmt: skip

    # --- public ------------------------------------------------------------------------------

    def start(self, timeout: float = 90.0) -> bool:
        """Start the broker and wait until it answers metadata requests. Returns False when this
        profile's broker was already running (then it is reused), True when launched here."""
        with file_lock(self._lock):
            pid = self.running_pid()
            if pid is not None:
                self._reuse(pid, timeout)
                launched = False
            else:
                self._launch_and_wait(timeout)
                launched = True
            provision(self.admin_access, self.credentials)
            return launched

    def stop(self) -> None:
        """Stop this profile's broker, whoever started it; nothing to do when none runs."""
        with file_lock(self._lock):
            pid = self.running_pid()
            if pid is None:
                self.pid_file.unlink(missing_ok=True)
                return
            started = time.monotonic()
            terminate(pid, what="kafka", grace=STOP_GRACE, log=self.log)
            self.pid_file.unlink(missing_ok=True)
            self.log(f"kafka: stopped (pid {pid}) in {time.monotonic() - started:.1f} s")

    def status(self) -> KafkaStatus:
        pid = self.running_pid()
        return KafkaStatus(
            running=pid is not None, pid=pid, bootstrap_servers=self.bootstrap_servers
        )

    def running_pid(self) -> int | None:
        """The pid of this profile's broker if it runs (its pid file names a live JVM running
        our properties file), else None."""
        try:
            pid = int(self.pid_file.read_text().strip())
        except (OSError, ValueError):
            return None
        return pid if process_matches(pid, MAIN_CLASS, str(self.properties)) else None

    # --- start-up ----------------------------------------------------------------------------

    def _reuse(self, pid: int, timeout: float) -> None:
        configured = _read_properties(self.properties).get("advertised.listeners", "")
        if f"CLIENT://{self.bootstrap_servers}" not in configured.split(","):
            raise InfraError(
                f"kafka: profile {self.profile!r} already runs a broker (pid {pid}) at "
                f"{configured or 'an unknown address'}, not {self.bootstrap_servers}; stop it first"
            )
        elapsed = self._wait_ready(pid, timeout)
        self.log(f"kafka: already running (pid {pid}), ready on {self.bootstrap_servers}"
                 f" in {elapsed:.1f} s")  # fmt: skip

    def _launch_and_wait(self, timeout: float) -> None:
        ensure_ports_free("kafka", [self.port, self.controller_port, self.internal_port])
        libs = ensure_jars(self.log)
        started = time.monotonic()
        self._write_properties()
        if not (self.data_dir / "meta.properties").exists():
            self._format(libs)
        self._log_marks = {log: log_size(log) for log in (self.server_log, self.stdout_log)}
        pid = spawn(self._command(libs), log_file=self.stdout_log)
        self.pid_file.write_text(f"{pid}\n")
        try:
            self._wait_ready(pid, timeout)
        except BaseException:
            # Never leave a half-started broker behind (also on Ctrl-C while waiting).
            terminate(pid, what="kafka", grace=10.0, log=self.log)
            self.pid_file.unlink(missing_ok=True)
            raise
        self.log(f"kafka: ready on {self.bootstrap_servers} (pid {pid})"
                 f" in {time.monotonic() - started:.1f} s")  # fmt: skip

    def _write_properties(self) -> None:
        # Rewritten at every start so that the ports given now apply.
        self.properties.parent.mkdir(parents=True, exist_ok=True)
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        self.properties.write_text(server_properties(
            self.port, self.controller_port, self.internal_port, self.data_dir,
            admin_password=self.credentials.password_of(ADMIN),
        ))  # fmt: skip
        self.properties.chmod(0o600)  # it holds the admin's password

    def _format(self, libs: Path) -> None:
        self.log("kafka: formatting a new data directory (first start of this profile)")
        format_log = self.logs_dir / "kafka-format.log"
        result = run_tool(
            [java(), *self._jvm_options(), "-cp", f"{libs}/*", "kafka.tools.StorageTool",
             "format", "--ignore-formatted", "-t", new_cluster_id(), "-c", str(self.properties)],
            log_file=format_log,
            timeout=FORMAT_TIMEOUT,
        )  # fmt: skip
        if result.returncode != 0:
            raise InfraError(
                f"kafka: formatting {self.data_dir} failed (exit {result.returncode}); "
                f"last lines of {format_log}:\n{tail(format_log)}"
            )

    def _jvm_options(self) -> list[str]:
        log4j = repo_root() / "deploy" / "kafka" / "log4j2.properties"
        return [
            f"-Dlog4j2.configurationFile={log4j}",
            f"-Dkafka.logs.dir={self.logs_dir}",
            "-Djava.awt.headless=true",
            # Kafka logs its own shutdown; log4j must not close before it (our stop waits).
            "-Dlog4j2.shutdownHookEnabled=false",
        ]

    def _command(self, libs: Path) -> list[str]:
        return [
            java(),
            f"-Xmx{HEAP}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            # A broker out of memory is better dead (and noticed) than limping.
            "-XX:+ExitOnOutOfMemoryError",
            *self._jvm_options(),
            "-cp",
            f"{libs}/*",
            MAIN_CLASS,
            str(self.properties),
        ]

    def _wait_ready(self, pid: int, timeout: float) -> float:
        """Seconds until the broker answered a metadata request; raises with the log's tail if it
        exits or is not ready within timeout seconds."""
        started = time.monotonic()

        def ready() -> bool:
            if not process_alive(pid):
                raise InfraError(
                    f"kafka: the broker exited during start-up (exit {exit_code(pid)}); "
                    f"last lines of {self.server_log}:\n{self._tail(self.server_log)}\n"
                    f"and of {self.stdout_log}:\n{self._tail(self.stdout_log, 10)}"
                )
            # A TCP connection first: cheap, and it keeps aiokafka from logging refusals.
            return port_accepts(self.port) and run_sync(lambda: answers_metadata(self.admin_access))

        if not poll_until(ready, timeout):
            raise InfraError(
                f"kafka: the broker (pid {pid}) did not answer on {self.bootstrap_servers} "
                f"within {timeout:.0f} s; last lines of {self.server_log}:\n"
                f"{self._tail(self.server_log)}"
            )
        return time.monotonic() - started

    def _tail(self, log: Path, lines: int = 30) -> str:
        return tail(log, lines, since=self._log_marks.get(log, 0))


async def answers_metadata(kafka: KafkaAccess, within: float = 5.0) -> bool:
    """Whether the broker answers a metadata request: Kafka's own notion of "serving"."""
    admin = AIOKafkaAdminClient(
        **kafka.client_options(),
        client_id="safety-month-infra-probe",
        request_timeout_ms=int(within * 1000),
    )
    try:
        async with asyncio.timeout(within):
            await admin.start()
            cluster = await admin.describe_cluster()
        return bool(cluster.get("brokers"))
    except (KafkaError, OSError):
        return False
    finally:
        await admin.close()


def server_properties(
    port: int, controller_port: int, internal_port: int, data_dir: Path, *, admin_password: str
) -> str:
    plain = (
        "org.apache.kafka.common.security.plain.PlainLoginModule required"
        f' username="{ADMIN}" password="{admin_password}" user_{ADMIN}="{admin_password}";'
    )
    settings = {
        "process.roles": "broker,controller",
        "node.id": "1",
        "controller.quorum.voters": f"1@{HOST}:{controller_port}",
        "listeners": f"CLIENT://{HOST}:{port},INTERNAL://{HOST}:{internal_port},"
        f"CONTROLLER://{HOST}:{controller_port}",
        "advertised.listeners": f"CLIENT://{HOST}:{port},INTERNAL://{HOST}:{internal_port}",
        "controller.listener.names": "CONTROLLER",
        "inter.broker.listener.name": "INTERNAL",
        "listener.security.protocol.map": "CLIENT:SASL_PLAINTEXT,INTERNAL:SASL_PLAINTEXT,"
        "CONTROLLER:SASL_PLAINTEXT",
        # Clients: SCRAM, whose credentials live in the cluster's metadata (kafka_access).
        "listener.name.client.sasl.enabled.mechanisms": "SCRAM-SHA-512",
        "listener.name.client.scram-sha-512.sasl.jaas.config": "org.apache.kafka.common.security.scram.ScramLoginModule required;",
        # The broker itself and the admin who provisions: PLAIN, from this file (mode 600).
        "sasl.mechanism.inter.broker.protocol": "PLAIN",
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.internal.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.internal.plain.sasl.jaas.config": plain,
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": plain,
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": ";".join(f"User:{name}" for name in SUPER_USERS),
        "allow.everyone.if.no.acl.found": "false",
        "log.dirs": str(data_dir),
        "num.partitions": "12",
        # Only a principal allowed to create topics (the operator's) makes one by naming it.
        "auto.create.topics.enable": "true",
        # One broker: every internal topic has a single replica; few partitions start faster.
        "offsets.topic.replication.factor": "1",
        "offsets.topic.num.partitions": "4",
        "transaction.state.log.replication.factor": "1",
        "transaction.state.log.min.isr": "1",
        "transaction.state.log.num.partitions": "4",
        "share.coordinator.state.topic.replication.factor": "1",
        "share.coordinator.state.topic.min.isr": "1",
        # Consumers of a new group start at once instead of after 3 s.
        "group.initial.rebalance.delay.ms": "0",
        # After a crash (kill -9) the restarted broker may register only once the controller
        # has fenced its previous incarnation: 4 s instead of the default 9 s.
        "broker.session.timeout.ms": "4000",
        "broker.heartbeat.interval.ms": "1000",
    }
    lines = ["# Written by safety_month/infra/kafka.py at every start; edits are lost."]
    lines += [f"{key}={value}" for key, value in settings.items()]
    return "\n".join(lines) + "\n"


def _read_properties(path: Path) -> dict[str, str]:
    try:
        text = path.read_text()
    except OSError:
        return {}
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {key.strip(): value.strip() for key, value in pairs if not key.startswith("#")}


__all__ = ["KafkaServer", "KafkaStatus", "answers_metadata", "ensure_jars"]
