"""B1: the highest rate of POST /v1/tips answered with p99 ≤ 100 ms, against a bare FastAPI
endpoint doing one asyncpg INSERT under the same uvicorn settings, round by round."""

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx

from bench.context import Context
from bench.data import Tips
from bench.load import ConnectionPool, Request, highest_rate_within
from bench.report import Figure, at_least_ratio
from bench.stack import System, fresh_database
from safety_month.demo.sinks import free_port

P99_LIMIT = 0.100


def tip_requests(seed: int) -> Request:
    tips = Tips(seed)
    return lambda _index: ("POST", "/v1/tips", tips.encoded(), {})


@contextlib.contextmanager
def bare_server(database_url: str) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench.bare", str(port), database_url],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                error = process.stderr.read().decode() if process.stderr else ""
                raise RuntimeError(f"the bare endpoint did not start: {error[-2000:]}")
            time.sleep(0.1)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def run(ctx: Context, figure: Figure) -> None:
    volumes = ctx.volumes
    rate = figure.row(
        "tips/s answered with p99 ≤ 100 ms", "req/s", target="≥ 0.75× baseline",
        check=at_least_ratio(0.75),
        how="open-loop bisection on the rate (closed-loop capacity first); baseline: bare "
        "FastAPI + one asyncpg INSERT, same uvicorn settings; rounds interleaved",
    )  # fmt: skip
    capacity = figure.row("closed-loop capacity, 16 clients", "req/s")
    async with fresh_database(ctx.server_url, "b1") as database_url:
        system = System(ctx.endpoints, database_url, ctx.folder / "b1", ctx.log, ("intake",))
        await asyncio.to_thread(system.start)
        try:
            with bare_server(database_url) as bare_port:
                intake = ConnectionPool(system.ports["intake"])
                bare = ConnectionPool(bare_port)
                steps: dict[str, list[object]] = {"intake": [], "baseline": []}
                for round_ in range(volumes.rounds):
                    for name, pool, samples in (("baseline", bare, rate.baseline),
                                                ("intake", intake, rate.samples)):  # fmt: skip
                        best, trail = await highest_rate_within(
                            pool, tip_requests(round_), p99_limit=P99_LIMIT,
                            step_seconds=volumes.b1_step_seconds, probes=volumes.b1_probes,
                        )  # fmt: skip
                        samples.append(best)
                        (capacity.baseline if name == "baseline" else capacity.samples).append(
                            trail[0]["closed_loop_capacity"]
                        )
                        steps[name].append(trail)
                        ctx.log(f"B1 round {round_ + 1} {name}: {best:.0f} req/s within 100 ms")
                intake.close()
                bare.close()
                figure.notes["steps"] = steps
        finally:
            await asyncio.to_thread(system.stop)
