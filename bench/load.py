"""Load on 127.0.0.1 only, bounded in count and time: a lean HTTP/1.1 keep-alive client (so that
the load costs the two cores little of what the servers need) and an open-loop generator.

Open loop: request i is due at start + i / rate whether or not the earlier ones were answered, and
its latency counts from when it was due, so a server falling behind shows as latency instead of
slowing the load down (no coordinated omission).
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

HOST = "127.0.0.1"
MAX_CONNECTIONS = 256


class HttpConnection:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        lines = [f"{method} {path} HTTP/1.1", f"host: {HOST}:{self.port}",
                 f"content-length: {len(body)}"]  # fmt: skip
        headers = headers or {}
        if body and "content-type" not in headers:
            lines.append("content-type: application/json")
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length = 0
        chunked = False
        for line in header_lines:
            name, _, value = line.partition(":")
            name = name.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
        content = await self._chunks() if chunked else await self.reader.readexactly(length)
        return status, content

    async def _chunks(self) -> bytes:
        assert self.reader is not None
        parts = []
        while True:
            size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                await self.reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self.reader.readexactly(size))
            await self.reader.readexactly(2)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class ConnectionPool:
    def __init__(self, port: int, limit: int = MAX_CONNECTIONS) -> None:
        self.port = port
        self.idle: list[HttpConnection] = []
        self.slots = asyncio.Semaphore(limit)

    async def request(
        self, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> tuple[int, bytes]:
        async with self.slots:
            if self.idle:
                connection = self.idle.pop()
                try:
                    answer = await connection.request(method, path, body, headers)
                    self.idle.append(connection)
                    return answer
                except (ConnectionError, asyncio.IncompleteReadError):
                    connection.close()  # the server closed it while idle (keep-alive timeout)
            connection = HttpConnection(self.port)
            try:
                answer = await connection.request(method, path, body, headers)
            except BaseException:
                connection.close()
                raise
            self.idle.append(connection)
            return answer

    def close(self) -> None:
        for connection in self.idle:
            connection.close()
        self.idle.clear()


@dataclass
class Outcome:
    """What one load step saw: a latency per answered request, in seconds, and its answer."""

    rate: float
    seconds: float
    latencies: list[float] = field(default_factory=list)
    answered_at: list[float] = field(default_factory=list)  # monotonic, in order of answer
    bodies: list[bytes] = field(default_factory=list)
    errors: int = 0
    first_error: str = ""

    @property
    def sent(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def achieved(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, share: float) -> float:
        return percentile(self.latencies, share)


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("inf")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


Request = Callable[[int], tuple[str, str, bytes, dict[str, str]]]  # i -> method, path, body, hdrs


async def open_loop(
    pool: ConnectionPool, request: Request, *, rate: float, seconds: float,
    keep_bodies: bool = False, drain_seconds: float = 30.0, ok: Callable[[int], bool] = lambda s: s < 300,
) -> Outcome:  # fmt: skip
    """`rate` requests a second for `seconds`, each due at its time; waits (at most
    `drain_seconds` more) for the answers."""
    count = max(1, round(rate * seconds))
    outcome = Outcome(rate=rate, seconds=seconds)
    start = time.monotonic()

    async def one(index: int, due: float) -> None:
        method, path, body, headers = request(index)
        try:
            status, content = await pool.request(method, path, body, headers)
        except (OSError, asyncio.IncompleteReadError) as error:
            outcome.errors += 1
            outcome.first_error = outcome.first_error or repr(error)
            return
        done = time.monotonic()
        if not ok(status):
            outcome.errors += 1
            outcome.first_error = outcome.first_error or f"{status}: {content[:300]!r}"
            return
        outcome.latencies.append(done - due)
        outcome.answered_at.append(done)
        if keep_bodies:
            outcome.bodies.append(content)

    tasks = []
    for index in range(count):
        due = start + index / rate
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(index, due)))
    outcome.seconds = max(seconds, time.monotonic() - start)
    _done, late = await asyncio.wait(tasks, timeout=drain_seconds)
    for task in late:
        task.cancel()
        outcome.errors += 1
    return outcome


async def closed_loop(
    pool: ConnectionPool, request: Request, *, concurrency: int, seconds: float
) -> Outcome:
    """`concurrency` clients each sending the next request as soon as the last is answered: the
    most the server answers, whatever the latency."""
    outcome = Outcome(rate=0.0, seconds=seconds)
    deadline = time.monotonic() + seconds
    counter = iter(range(10**9))

    async def client() -> None:
        while time.monotonic() < deadline:
            method, path, body, headers = request(next(counter))
            sent = time.monotonic()
            try:
                status, _ = await pool.request(method, path, body, headers)
            except (OSError, asyncio.IncompleteReadError) as error:
                outcome.errors += 1
                outcome.first_error = outcome.first_error or repr(error)
                continue
            if status >= 300:
                outcome.errors += 1
                continue
            outcome.latencies.append(time.monotonic() - sent)

    started = time.monotonic()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    outcome.seconds = time.monotonic() - started
    return outcome


# Between two steps of a bisection: the queues the last step left (the server's, the relay's) drain.
DRAIN_SECONDS = 0.5


async def highest_rate_within(
    pool: ConnectionPool, request: Request, *, p99_limit: float, step_seconds: float,
    probes: int,
) -> tuple[float, list[dict[str, float]]]:  # fmt: skip
    """The highest open-loop rate whose p99 stays within `p99_limit` (and with no errors): the
    capacity from a short closed loop, then a bisection between a third of it and a bit above."""
    capacity = await closed_loop(pool, request, concurrency=16, seconds=step_seconds)
    low, high = capacity.achieved * 0.3, capacity.achieved * 1.1
    steps = [{"rate": 0.0, "closed_loop_capacity": capacity.achieved,
              "closed_loop_p99": capacity.percentile(0.99)}]  # fmt: skip
    best = 0.0
    await asyncio.sleep(
        DRAIN_SECONDS
    )  # the closed loop's backlog (a relay's, say) is not the step's
    first = await open_loop(pool, request, rate=low, seconds=step_seconds)
    steps.append(_step(first))
    if _within(first, p99_limit):
        best = low
    else:
        low, high = low / 3, low
    for _ in range(probes):
        rate = (low + high) / 2
        await asyncio.sleep(DRAIN_SECONDS)
        outcome = await open_loop(pool, request, rate=rate, seconds=step_seconds)
        steps.append(_step(outcome))
        if _within(outcome, p99_limit):
            best, low = max(best, rate), rate
        else:
            high = rate
    return best, steps


def _within(outcome: Outcome, p99_limit: float) -> bool:
    return outcome.errors == 0 and outcome.percentile(0.99) <= p99_limit


def _step(outcome: Outcome) -> dict[str, float]:
    return {"rate": round(outcome.rate, 1), "p50_ms": round(outcome.percentile(0.5) * 1000, 1),
            "p99_ms": round(outcome.percentile(0.99) * 1000, 1), "errors": outcome.errors}  # fmt: skip
