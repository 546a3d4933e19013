"""B6: the real month end to end (114,000 tips and every unit's June submissions over HTTP) until
the national summary shows them all; against B1's baseline (the bare endpoint) taking as many
requests, as many at a time. Lost and counted twice are checked against reports' read model by
the ids intake answered with."""

from bench.b1_intake import bare_server
from bench.context import Context
from bench.data import Tips
from bench.month import Call, MonthSystem, send_all
from bench.report import Figure
from bench.stack import fresh_database


async def run(ctx: Context, figure: Figure, month: MonthSystem) -> None:
    volumes = ctx.volumes
    result = await month.play_month()
    calls = sum(result.sent.accepted.values()) + sum(result.sent.refused.values())
    visible = result.visible_after is not None
    total = figure.row(
        f"the month ({calls:,} requests) until the summary shows it all", "s",
        target="≤ 1.5× baseline",
        check=lambda _median, ratio: visible and ratio is not None and ratio <= 1.5,
        how=f"{volumes.b6_concurrency} clients over HTTP/1.1 keep-alive; the summary polled "
        "until tips, cases, snapshots, liaisons and summary reports all show; baseline: the "
        "bare endpoint of B1 taking as many requests, as many at a time",
    )  # fmt: skip
    answering = figure.row("intake answering the month", "req/s")
    lost = figure.row("tips lost", "count", target="0", check=lambda m, _r: m == 0)
    twice = figure.row("tips counted twice", "count", target="0", check=lambda m, _r: m == 0)
    total.samples.append(result.visible_after or result.finished - result.started)
    answering.samples.append(calls / result.sent.seconds)
    lost.samples.append(result.lost)
    twice.samples.append(result.counted_twice)
    figure.notes.update(
        accepted=result.sent.accepted, refused=result.sent.refused,
        first_refusals=result.sent.first_refusals, expected=result.expected, shown=result.shown,
        intake_tips=result.intake_tips, sending_seconds=round(result.sent.seconds, 1),
        summary_showed_everything=visible,
    )  # fmt: skip
    tips = Tips(seed=99)
    same = [Call("tip", "POST", "/v1/tips", tips.encoded(), {}) for _ in range(calls)]
    async with fresh_database(ctx.server_url, "b6") as dsn:
        with bare_server(dsn) as port:
            bare = await send_all(port, same, volumes.b6_concurrency, keep_ids=False)
    total.baseline.append(bare.seconds)
    answering.baseline.append(calls / bare.seconds)
    ctx.log(f"B6: month visible after {result.visible_after} s; bare endpoint {bare.seconds:.1f} s")
