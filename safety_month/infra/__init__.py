"""Local infrastructure without Docker: one Kafka broker and one PostgreSQL server per profile.

Everything lives under `<repo>/.run/` (or `$SAFETY_MONTH_RUN_DIR`):

    .run/kafka/libs/           Kafka's jars, fetched once with Maven and shared by all profiles
    .run/<profile>/kafka-data  the broker's log directory
    .run/<profile>/pgdata      the PostgreSQL cluster (its postmaster.pid is its pid file)
    .run/<profile>/logs/       the servers' logs

The entry point is `safety_month.infra.stack.LocalStack` (also importable from here); this module
holds what the two servers share: where things are, ports, processes, locks and waiting.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import fcntl
import os
import re
import signal
import socket
import subprocess
import threading
import time
import tomllib
import warnings
from collections.abc import Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import psutil

if TYPE_CHECKING:
    from safety_month.infra.stack import Endpoints, LocalStack

__all__ = ["Endpoints", "InfraError", "LocalStack", "Log", "profile_dir", "repo_root", "run_dir"]

RUN_DIR_ENV = "SAFETY_MONTH_RUN_DIR"
HOST = "127.0.0.1"

Log = Callable[[str], None]
T = TypeVar("T")

# A profile name becomes a folder name; "kafka" is taken by the shared jar cache.
_PROFILE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_RESERVED_PROFILES = {"kafka"}


class InfraError(RuntimeError):
    """A server could not be started or stopped; the message says why and what to do."""


def __getattr__(name: str) -> Any:
    # The facade is imported lazily: stack imports kafka and postgres, which import this module.
    if name in {"LocalStack", "Endpoints"}:
        from safety_month.infra import stack

        return getattr(stack, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# --- where things are -------------------------------------------------------------------------


def repo_root() -> Path:
    """The workspace root: the nearest folder above this file whose pyproject.toml is a uv
    workspace (a member's pyproject.toml, or a stray one, is skipped)."""
    for folder in Path(__file__).resolve().parents:
        candidate = folder / "pyproject.toml"
        if candidate.is_file() and _is_workspace_root(candidate):
            return folder
    raise InfraError(
        "infra: cannot find the repository root (a pyproject.toml with [tool.uv.workspace]) "
        f"above {__file__}; run from a checkout of the project"
    )


def _is_workspace_root(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return "workspace" in data.get("tool", {}).get("uv", {})


def run_dir() -> Path:
    """The folder of all local state: `$SAFETY_MONTH_RUN_DIR`, else `<repo>/.run`."""
    override = os.environ.get(RUN_DIR_ENV, "").strip()
    return Path(override).resolve() if override else repo_root() / ".run"


def profile_dir(profile: str) -> Path:
    """The folder of one profile's data, logs and pid files."""
    if not _PROFILE_NAME.match(profile) or profile in _RESERVED_PROFILES:
        raise ValueError(
            f"invalid profile name {profile!r}: use letters, digits, '.', '_' or '-' "
            f"(and not {', '.join(sorted(_RESERVED_PROFILES))})"
        )
    return run_dir() / profile


def tail(path: Path, lines: int = 30, *, since: int = 0) -> str:
    """The last lines of a log file written after byte offset `since` (what this start-up wrote,
    not the previous runs), for error messages; never raises."""
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, os.SEEK_END)
            start = since if since <= size else 0  # a log rotated meanwhile starts anew
            handle.seek(max(start, size - 64 * 1024))
            text = handle.read().decode("utf-8", errors="replace")
    except OSError:
        return f"    (no log at {path})"
    kept = text.splitlines()[-lines:]
    return "\n".join(f"    {line}" for line in kept) if kept else f"    (nothing new in {path})"


def log_size(path: Path) -> int:
    """Where the next line of a log will be written: a mark for tail(since=...)."""
    try:
        return path.stat().st_size
    except OSError:
        return 0


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock between processes (two `up`s, or parallel test workers, at once)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- ports ------------------------------------------------------------------------------------


def port_is_free(port: int) -> bool:
    """Whether a server could listen on 127.0.0.1:port now. Binding (not connecting) also notices
    a socket that is bound but not listening; SO_REUSEADDR, as Java and PostgreSQL use, so that
    connections of a stopped server left in TIME_WAIT do not count."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def port_accepts(port: int, timeout: float = 0.5) -> bool:
    """Whether something accepts TCP connections on 127.0.0.1:port."""
    try:
        with socket.create_connection((HOST, port), timeout=timeout):
            return True
    except OSError:
        return False


def describe_listener(port: int) -> str:
    """Who holds a port, as well as we can tell (other users' sockets need root)."""
    with contextlib.suppress(psutil.Error, OSError):
        for conn in psutil.net_connections(kind="tcp"):
            if conn.laddr and conn.laddr.port == port and conn.pid:
                with contextlib.suppress(psutil.Error):
                    proc = psutil.Process(conn.pid)
                    return f"pid {conn.pid} ({' '.join(proc.cmdline()[:3]) or proc.name()})"
    return "another program"


def ensure_ports_free(what: str, ports: Sequence[int]) -> None:
    for port in ports:
        if not port_is_free(port):
            raise InfraError(
                f"{what}: port {port} on {HOST} is already used by {describe_listener(port)}, "
                "not by this profile's server; stop that program or choose another port"
            )


# --- processes --------------------------------------------------------------------------------

# The servers we started from this Python process, so that we reap them (no zombies, and no
# "subprocess still running" ResourceWarning) when we stop them.
_children: dict[int, subprocess.Popen[bytes]] = {}
_children_lock = threading.Lock()


@atexit.register
def _leave_running_children() -> None:
    """Servers still running when Python exits are left running on purpose (`infra start`);
    their Popen objects must not warn at exit that nobody waited for them."""
    with _children_lock:
        for pid, proc in _children.items():
            if proc.poll() is None:
                warnings.filterwarnings(
                    "ignore",
                    message=rf"subprocess {pid} is still running",
                    category=ResourceWarning,
                )


def spawn(
    argv: Sequence[str], *, log_file: Path, user: int | None = None, group: int | None = None
) -> int:
    """Start a server in its own session, so that Ctrl-C in the terminal of `up` does not reach
    it before we stop the stack in order; its output is appended to log_file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - argv is built by this package, not from input
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd="/",
            start_new_session=True,
            user=user,
            group=group,
            extra_groups=_extra_groups(user),
        )
    with _children_lock:
        _children[proc.pid] = proc
    return proc.pid


def run_tool(
    argv: Sequence[str],
    *,
    log_file: Path,
    timeout: float,
    user: int | None = None,
    group: int | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a short command (initdb, mvn, ...) with its output appended to log_file."""
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as out:
        return subprocess.run(  # noqa: S603 - argv is built by this package, not from input
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd="/",
            timeout=timeout,
            check=False,
            user=user,
            group=group,
            extra_groups=_extra_groups(user),
        )


def _extra_groups(user: int | None) -> list[int] | None:
    # When switching user, drop root's supplementary groups too, or the server would keep them.
    return None if user is None else []


def exit_code(pid: int) -> int | None:
    """The exit code of a server we started that has exited, else None."""
    with _children_lock:
        proc = _children.get(pid)
    return None if proc is None else proc.poll()


def process_alive(pid: int) -> bool:
    """Alive and not a zombie: a server that exited after its parent (an earlier `up`) stays a
    zombie where PID 1 does not reap orphans (some containers), yet it is gone for us."""
    try:
        proc = psutil.Process(pid)
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def process_matches(pid: int, *needles: str) -> bool:
    """Whether pid is alive and its command line contains every needle: a pid file may outlive
    its server, and the number may since belong to another program."""
    if not process_alive(pid):
        return False
    try:
        cmdline = " ".join(psutil.Process(pid).cmdline())
    except psutil.Error:
        return False
    return all(needle in cmdline for needle in needles)


def wait_gone(pid: int, timeout: float) -> bool:
    """Wait up to timeout seconds for pid to exit (reaping it if it is our child)."""
    with _children_lock:
        proc = _children.get(pid)
    if proc is not None:
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return False
        with _children_lock:
            _children.pop(pid, None)
        return True
    return poll_until(lambda: not process_alive(pid), timeout)


def kill_group(pid: int, sig: signal.Signals) -> None:
    """Signal the server's whole process group (PostgreSQL's backends die with the postmaster);
    just the process when it does not lead a group."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, sig)
        else:
            os.kill(pid, sig)


def terminate(pid: int, *, what: str, grace: float, log: Log) -> None:
    """SIGTERM, wait up to `grace` seconds, then SIGKILL: no process is left behind."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
    if wait_gone(pid, grace):
        return
    log(f"{what}: still running {grace:.0f} s after SIGTERM, killing it (pid {pid})")
    kill_group(pid, signal.SIGKILL)
    if not wait_gone(pid, 10.0):
        raise InfraError(f"{what}: pid {pid} survived SIGKILL")


# --- waiting ----------------------------------------------------------------------------------


def poll_until(check: Callable[[], bool], timeout: float) -> bool:
    """Call check with a short, growing back-off until it is true or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        if check():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
        delay = min(delay * 1.5, 0.5)


def run_sync(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to completion from synchronous code, even when an event loop is already
    running in this thread (LocalStack.start() called from an async test or app)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make())
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="infra-probe") as pool:
        return pool.submit(lambda: asyncio.run(make())).result()
