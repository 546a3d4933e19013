"""B9: how the month's cost grows with its volume: B6 (the month end to end over HTTP, until the
national summary shows it all) at each of the volumes' factors (1×, 3×, 10× the 2021 month's
114,000 tips in a full run), each on a system and a database of its own (a quick run plays them
one after the other on B6's system), the summary's tips still exact at each. The shape is the exponent k of time ∝ requests^k fitted on the points."""

from bench.context import MONTH_TIPS, Context
from bench.month import MonthResult, MonthSystem
from bench.report import Figure, Row
from bench.scaling import Curve, growth_exponent, plot, shape


def _zero(median: float, _ratio: float | None) -> bool:
    return median == 0


async def _play(ctx: Context, shared: MonthSystem, factor: float) -> MonthResult:
    tips = round(MONTH_TIPS * factor)
    if not ctx.volumes.b9_fresh_systems:
        return await shared.play(tips)
    month = MonthSystem(ctx, name=f"b9-{factor:g}")
    try:
        return await month.play(tips)
    finally:
        await month.stop()


async def run(ctx: Context, figure: Figure, shared: MonthSystem) -> None:
    factors = ctx.volumes.b9_factors
    requests: list[float] = []
    times: list[Row] = []
    rates: list[Row] = []
    for factor in factors:
        result = await _play(ctx, shared, factor)
        calls = sum(result.sent.accepted.values()) + sum(result.sent.refused.values())
        at = f"at {factor:g}× ({calls:,} requests)"
        total = figure.row(
            f"the month {at} until the summary shows it all", "s",
            how="B6's month (the same units' June submissions, the public's tips times the "
            "factor) on a fresh system and database"
            + ("" if ctx.volumes.b9_fresh_systems else " (quick: all on B6's system)")
            + "; baseline: the smallest volume's run, so the "
            "ratio is the time's growth, to read against the requests' growth",
        )  # fmt: skip
        answering = figure.row(f"intake answering {at}", "req/s")
        lost = figure.row(f"tips lost {at}", "count", target="0", check=_zero)
        twice = figure.row(f"tips counted twice {at}", "count", target="0", check=_zero)
        total.samples.append(result.visible_after or result.finished - result.started)
        answering.samples.append(calls / result.sent.seconds)
        lost.samples.append(result.lost)
        twice.samples.append(result.counted_twice)
        if result.visible_after is None:
            raise RuntimeError(f"B9 {at}: the summary never showed it all: {result.shown}")
        if times:
            total.baseline = list(times[0].samples)
            answering.baseline = list(rates[0].samples)
        requests.append(calls)
        times.append(total)
        rates.append(answering)
        figure.notes[f"{factor:g}x"] = {
            "requests": calls, "accepted": result.sent.accepted, "refused": result.sent.refused,
            "sending_seconds": round(result.sent.seconds, 1), "expected": result.expected,
            "shown": result.shown, "intake_tips": result.intake_tips,
        }  # fmt: skip
        ctx.log(f"B9 {at}: visible after {total.median:.1f} s, {answering.median:,.0f} req/s")
    time_k = growth_exponent(requests, [row.median for row in times])
    rate_k = growth_exponent(requests, [row.median for row in rates])
    figure.row(f"time ∝ requests^k: k ({shape(time_k)})", "k", target="≤ 1.1 (linear or better)",
               check=lambda median, _ratio: median <= 1.1,
               how="least-squares slope of log(time) on log(requests) over the volumes",
               ).samples.append(time_k)  # fmt: skip
    figure.row("intake req/s ∝ requests^k: k (0 = holds up)", "k").samples.append(rate_k)
    figure.notes["shape"] = {"time_exponent": time_k, "time_shape": shape(time_k),
                             "rate_exponent": rate_k}  # fmt: skip
    png = plot(
        ctx.results / "b9_scale.png",
        "B9: the month end to end at " + ", ".join(f"{factor:g}×" for factor in factors),
        "requests to intake in the month", requests,
        [Curve("until the summary shows it all", "s", [row.median for row in times]),
         Curve("intake answering", "req/s", [row.median for row in rates], rising=False)],
    )  # fmt: skip
    figure.notes["plot"] = str(png)
