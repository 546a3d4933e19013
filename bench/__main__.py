"""`python -m bench [--quick] [--only B1,B3] [--b9-factors 1,3,10]
[--out bench/results/latest.json]`

Runs each figure with its baseline in the same run, prints the table (median and spread of the
rounds, ratio to the baseline, target, met) and writes the results as JSON (and the table as
Markdown beside it, for the README)."""

import argparse
import asyncio
import logging
import sys
import tempfile
import time
import traceback
from collections.abc import Awaitable, Callable
from dataclasses import replace
from pathlib import Path

from bench import (
    b1_intake,
    b2_freshness,
    b3_relay,
    b4_projection,
    b5_replay,
    b6_month,
    b7_summary,
    b8_footprint,
    b9_scale,
    b10_scale,
)
from bench.context import FULL, QUICK, Context
from bench.month import MonthSystem
from bench.report import Figure, markdown, print_table, write_json
from bench.stack import Log, group_coordinator_ready, servers, uses_environment
from smonth_shared.telemetry import setup_tracing

Runner = Callable[[Context, Figure, MonthSystem], Awaitable[None]]


def _alone(run: Callable[[Context, Figure], Awaitable[None]]) -> Runner:
    return lambda ctx, figure, _month: run(ctx, figure)


# In the order they run: the figures on components of their own first, then those sharing the
# whole system (B6 plays the month that B7 and B8 read), B1 last (its intake publishes tips on the
# contract's topic, which the whole system's reports would otherwise take in).
FIGURES: dict[str, tuple[str, Runner]] = {
    "B3": ("outbox relay: rows/s draining pending rows", _alone(b3_relay.run)),
    "B4": ("projection: reports consuming smonth.tip.v1, events/s", _alone(b4_projection.run)),
    "B5": ("replay: rebuilding reports from the topics", _alone(b5_replay.run)),
    "B2": ("freshness: tip answered → in the national summary", b2_freshness.run),
    "B6": ("the real month end to end", b6_month.run),
    "B7": ("the summary: JSON, workbook, PDF", b7_summary.run),
    "B8": ("footprint: resident memory of each service", b8_footprint.run),
    "B9": ("how the month's cost grows with its volume", b9_scale.run),
    "B10": ("how the summary's cost grows with the units and the tips", b10_scale.run),
    "B1": ("tip intake: highest rate with p99 ≤ 100 ms", _alone(b1_intake.run)),
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="every figure at a tiny volume: proves the harness, measures little")  # fmt: skip
    parser.add_argument("--only", default="", help="comma-separated figures, e.g. B1,B3")
    parser.add_argument("--out", type=Path, default=Path("bench/results/latest.json"))
    parser.add_argument("--steady-seconds", type=float, default=None,
                        help="B8's steady-load window (default 600 s, quick 2 s)")  # fmt: skip
    parser.add_argument("--rounds", type=int, default=None,
                        help="rounds of each figure (default 3, quick 2)")  # fmt: skip
    parser.add_argument("--b9-factors", default=None,
                        help="B9's volumes, times the 2021 month, e.g. 1,3 (default 1,3,10; "
                        "quick 0.002,0.006,0.02)")  # fmt: skip
    parser.add_argument("--quiet", action="store_true", help="no progress lines")
    args = parser.parse_args()
    wanted = [name.strip().upper() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in wanted if name not in FIGURES]
    if unknown:
        sys.exit(f"unknown figures: {', '.join(unknown)} (known: {', '.join(sorted(FIGURES))})")
    selected = [name for name in FIGURES if not wanted or name in wanted]
    volumes = QUICK if args.quick else FULL
    if args.steady_seconds is not None:
        volumes = replace(volumes, b8_steady_seconds=args.steady_seconds)
    if args.rounds is not None:
        volumes = replace(
            volumes, rounds=args.rounds, b5_rounds=min(args.rounds, volumes.b5_rounds)
        )
    if args.b9_factors is not None:
        factors = tuple(sorted(float(factor) for factor in args.b9_factors.split(",")))
        if len(factors) < 2 or factors[0] <= 0:
            sys.exit("--b9-factors: at least two positive factors, e.g. 1,3")
        volumes = replace(volumes, b9_factors=factors)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aiokafka").setLevel(logging.ERROR)
    setup_tracing("bench")  # as every service does: nothing exports, so no span is made
    log = Log(verbose=not args.quiet)
    figures = [Figure(name, FIGURES[name][0]) for name in selected]
    started = time.monotonic()
    with servers(log) as endpoints, tempfile.TemporaryDirectory(prefix="bench-") as folder:
        ctx = Context(endpoints, volumes, log, Path(folder), args.quick, results=args.out.parent)
        asyncio.run(_run_all(ctx, figures))
    ordered = sorted(figures, key=lambda figure: int(figure.id[1:]))
    title = (
        f"safety-month bench{' --quick' if args.quick else ''} ({time.monotonic() - started:.0f} s)"
    )
    print_table(ordered, title=title)
    context = {"quick": args.quick, "volumes": volumes.__dict__,
               "servers": "environment" if uses_environment() else "bench profile"}  # fmt: skip
    write_json(args.out, ordered, context)
    args.out.with_suffix(".md").write_text(markdown(ordered) + "\n")
    print(f"results: {args.out} (and {args.out.with_suffix('.md')})")
    if any(figure.error for figure in figures):
        sys.exit(1)


async def _run_all(ctx: Context, figures: list[Figure]) -> None:
    await group_coordinator_ready(ctx.kafka)
    month = MonthSystem(ctx)
    try:
        for figure in figures:
            ctx.log(f"{figure.id}: {figure.title}")
            started = time.monotonic()
            try:
                await FIGURES[figure.id][1](ctx, figure, month)
            except Exception as error:  # one figure failing must not hide the others
                figure.error = f"{type(error).__name__}: {error}"
                ctx.log(f"{figure.id} failed:\n{traceback.format_exc()}")
                if month.system is not None:
                    ctx.log(f"recent service logs:\n{month.system.recent_logs()}")
            figure.seconds = time.monotonic() - started
            if _on_month(figure, ctx) and not _later_need(figures, figure, ctx):
                await month.stop()
    finally:
        await month.stop()


def _on_month(figure: Figure, ctx: Context) -> bool:
    """Whether the figure runs on the whole system B6 plays."""
    return figure.id in ("B2", "B6", "B7", "B8") or (
        figure.id == "B9" and not ctx.volumes.b9_fresh_systems
    )


def _later_need(figures: list[Figure], current: Figure, ctx: Context) -> bool:
    """Whether a figure after `current` runs on the whole system."""
    after = figures[figures.index(current) + 1 :]
    return any(_on_month(figure, ctx) for figure in after)


if __name__ == "__main__":
    main()
