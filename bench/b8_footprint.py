"""B8: the services' resident memory: the peak of each during the month (B6), against the same
service idle after start; then its growth under a steady load (tips at a steady rate and the
summary every few seconds), from the start of the window to its end, after a warm-up."""

import asyncio
import contextlib
import statistics
import time

from bench.context import Context
from bench.data import Tips
from bench.load import ConnectionPool, open_loop
from bench.month import MonthSystem
from bench.report import Figure, below

MB = 1024 * 1024


async def steady_load(month: MonthSystem, rate: float, seconds: float) -> None:
    assert month.system is not None
    intake = ConnectionPool(month.system.ports["intake"])
    reports = ConnectionPool(month.system.ports["reports"], limit=1)
    tips = Tips(seed=8)
    stop = asyncio.Event()

    async def readers() -> None:
        while not stop.is_set():
            await month.summary(reports)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 5)

    reading = asyncio.create_task(readers())
    try:
        await open_loop(intake, lambda _i: ("POST", "/v1/tips", tips.encoded(), {}),
                        rate=rate, seconds=seconds)  # fmt: skip
    finally:
        stop.set()
        await reading
        intake.close()
        reports.close()


async def run(ctx: Context, figure: Figure, month: MonthSystem) -> None:
    volumes = ctx.volumes
    result = await month.play_month()
    system = month.system
    assert system is not None and system.sampler is not None
    sampler = system.sampler
    for name in system.ports:
        peak = figure.row(f"{name}: peak RSS during the month", "MB", target="< 200 MB",
                          check=below(200), how="psutil every 0.5 s; baseline: idle after start")  # fmt: skip
        peak.samples.append(sampler.peak(name, result.started, result.finished) / MB)
        peak.baseline.append(system.idle_rss[name] / MB)
    ctx.log(f"B8: steady load {volumes.b8_steady_rate:.0f} tips/s for "
            f"{volumes.b8_warmup_seconds + volumes.b8_steady_seconds:.0f} s")  # fmt: skip
    started = time.monotonic()
    await steady_load(month, volumes.b8_steady_rate,
                      volumes.b8_warmup_seconds + volumes.b8_steady_seconds)  # fmt: skip
    window_start, window_end = started + volumes.b8_warmup_seconds, time.monotonic()
    tenth = max((window_end - window_start) / 10, 1.0)  # at least two samples
    for name in system.ports:
        first = sampler.window(name, window_start, window_start + tenth)
        last = sampler.window(name, window_end - tenth, window_end)
        growth = figure.row(
            f"{name}: RSS growth under steady load", "%", target="< 5 %", check=below(5),
            how=f"{volumes.b8_steady_rate:.0f} tips/s and the summary every 5 s for "
            f"{volumes.b8_steady_seconds:.0f} s after {volumes.b8_warmup_seconds:.0f} s of "
            "warm-up; the median of the last tenth against the first tenth",
        )  # fmt: skip
        if first and last:
            begin, end = statistics.median(first), statistics.median(last)
            growth.samples.append((end - begin) / begin * 100)
            figure.notes[f"{name}_rss_mb"] = [round(begin / MB, 1), round(end / MB, 1)]
