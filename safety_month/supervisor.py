"""Runs the four services as separate processes: migrations first, logs prefixed, clean stop."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import httpx

SERVICES: dict[str, int] = {"intake": 8001, "exposure": 8002, "notify": 8003, "reports": 8004}
COLOURS = {"intake": "36", "exposure": "33", "notify": "35", "reports": "32"}


class ServiceFailed(RuntimeError):
    pass


@dataclass
class Supervisor:
    """`env` is given to every service, `own_env` to each its own (its principal on the broker);
    `ports` maps each service to its HTTP port."""

    env: Mapping[str, str]
    ports: Mapping[str, int] = field(default_factory=lambda: dict(SERVICES))
    own_env: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    echo: Callable[[str], None] = print
    colour: bool = False
    _processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    _pumps: list[threading.Thread] = field(default_factory=list)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def migrate(self) -> None:
        """Each service's migrations and the topics, before any service starts."""
        for service in self.ports:
            result = subprocess.run(  # noqa: S603 - our own interpreter and module
                [sys.executable, "-m", f"smonth_{service}", "migrate"],
                env=self._env_of(service), capture_output=True, text=True, check=False,
            )  # fmt: skip
            if result.returncode != 0:
                raise ServiceFailed(f"{service}: migrations failed:\n{result.stderr[-3000:]}")

    def start(self) -> None:
        for service in self.ports:
            self.start_one(service)

    def start_one(self, service: str) -> None:
        process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", f"smonth_{service}", "serve"],
            env=self._env_of(service), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
        self._processes[service] = process
        pump = threading.Thread(target=self._pump, args=(service, process), daemon=True)
        pump.start()
        self._pumps.append(pump)

    def wait_ready(self, timeout: float = 60.0) -> float:
        """Seconds until every service's /readyz answers 200; fails naming who is not ready."""
        started = time.monotonic()
        waiting = set(self._processes)
        with httpx.Client(timeout=2.0) as client:
            while waiting:
                for service in sorted(waiting):
                    self._check_alive(service)
                    try:
                        if client.get(self.url(service) + "/readyz").status_code == 200:
                            waiting.discard(service)
                    except httpx.TransportError:
                        pass
                if time.monotonic() - started > timeout:
                    raise ServiceFailed(
                        f"not ready after {timeout:.0f} s: {', '.join(sorted(waiting))}"
                    )
                if waiting:
                    time.sleep(0.2)
        return time.monotonic() - started

    def stop_one(self, service: str, *, kill: bool = False, timeout: float = 15.0) -> None:
        process = self._processes.pop(service, None)
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def stop(self) -> None:
        for service in list(self._processes):
            self.stop_one(service)
        for pump in self._pumps:
            pump.join(timeout=2)

    def _check_alive(self, service: str) -> None:
        code = self._processes[service].poll()
        if code is not None:
            raise ServiceFailed(f"{service} exited with code {code} before it was ready")

    def _env_of(self, service: str) -> dict[str, str]:
        return {**os.environ, **self.env, **self.own_env.get(service, {}),
                "HTTP_PORT": str(self.ports[service]), "PYTHONUNBUFFERED": "1"}  # fmt: skip

    def _pump(self, service: str, process: subprocess.Popen[bytes]) -> None:
        prefix = f"{service:<8}|"
        if self.colour:
            prefix = f"\x1b[{COLOURS[service]}m{prefix}\x1b[0m"
        assert process.stdout is not None
        with process.stdout:
            for line in process.stdout:
                self.echo(f"{prefix} {line.decode('utf-8', 'replace').rstrip()}")
