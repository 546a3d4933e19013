"""B7: the national summary over the full month's data (B6's): the JSON's latency, one request
at a time, and the time to build the workbook and the PDF communique (as staff download them)."""

import time

from bench.context import Context
from bench.load import ConnectionPool, percentile
from bench.month import MonthSystem
from bench.report import Figure, below


async def _timed(pool: ConnectionPool, path: str, headers: dict[str, str]) -> float:
    started = time.monotonic()
    status, content = await pool.request("GET", path, headers=headers)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}: {content[:300]!r}")
    return time.monotonic() - started


async def run(ctx: Context, figure: Figure, month: MonthSystem) -> None:
    await month.play_month()
    assert month.system is not None
    headers = month.system.auth("staff")
    pool = ConnectionPool(month.system.ports["reports"], limit=1)
    json_p50 = figure.row("summary JSON p50", "ms", how="sequential GETs on the month's data")
    json_p99 = figure.row("summary JSON p99", "ms", target="< 50 ms", check=below(50),
                          how="sequential GETs on the month's data")  # fmt: skip
    xlsx = figure.row("workbook (xlsx)", "s")
    pdf = figure.row("PDF communique", "s")
    both = figure.row("workbook + PDF", "s", target="< 3 s", check=below(3))
    path = "/v1/national-summary?campaign=2021"
    try:
        await _timed(pool, path, headers)  # the first request warms what is lazily loaded
        for _ in range(ctx.volumes.rounds):
            latencies = [await _timed(pool, path, headers)
                         for _ in range(ctx.volumes.b7_requests)]  # fmt: skip
            json_p50.samples.append(percentile(latencies, 0.5) * 1000)
            json_p99.samples.append(percentile(latencies, 0.99) * 1000)
            workbook = await _timed(pool, path + "&format=xlsx", headers)
            communique = await _timed(pool, path + "&format=pdf", headers)
            xlsx.samples.append(workbook)
            pdf.samples.append(communique)
            both.samples.append(workbook + communique)
        ctx.log(f"B7: JSON p99 {json_p99.median:.0f} ms; xlsx {xlsx.median:.2f} s, "
                f"pdf {pdf.median:.2f} s")  # fmt: skip
    finally:
        pool.close()
