"""B7: the national summary over the full month's data (B6's): the JSON's latency, one request
at a time, and the time to build the workbook and the PDF communique (as staff download them)."""

import time
from dataclasses import dataclass

from bench.context import Context
from bench.load import ConnectionPool, percentile
from bench.month import MonthSystem
from bench.report import Figure, Row, below
from bench.stack import System

SUMMARY = "/v1/national-summary?campaign=2021"


async def _timed(pool: ConnectionPool, path: str, headers: dict[str, str]) -> float:
    started = time.monotonic()
    status, content = await pool.request("GET", path, headers=headers)
    if status != 200:
        raise RuntimeError(f"{path} answered {status}: {content[:300]!r}")
    return time.monotonic() - started


@dataclass(frozen=True)
class SummaryRows:
    """B7's measurements of one read model (B10 has one set per volume)."""

    json_p50: Row
    json_p99: Row
    xlsx: Row
    pdf: Row
    both: Row

    @classmethod
    def of(cls, figure: Figure, at: str = "", how: str = "sequential GETs on the month's data"
           ) -> "SummaryRows":  # fmt: skip
        return cls(
            json_p50=figure.row(f"summary JSON p50{at}", "ms", how=how),
            json_p99=figure.row(f"summary JSON p99{at}", "ms", target="< 50 ms", check=below(50),
                                how=how),
            xlsx=figure.row(f"workbook (xlsx){at}", "s"),
            pdf=figure.row(f"PDF communique{at}", "s"),
            both=figure.row(f"workbook + PDF{at}", "s", target="< 3 s", check=below(3)),
        )  # fmt: skip

    def rows(self) -> tuple[Row, ...]:
        return (self.json_p50, self.json_p99, self.xlsx, self.pdf, self.both)


async def measure(ctx: Context, system: System, rows: SummaryRows) -> None:
    """Each round: the JSON's latencies one request at a time, then the workbook and the PDF."""
    headers = system.auth("staff")
    pool = ConnectionPool(system.ports["reports"], limit=1)
    try:
        await _timed(pool, SUMMARY, headers)  # the first request warms what is lazily loaded
        for _ in range(ctx.volumes.rounds):
            latencies = [await _timed(pool, SUMMARY, headers)
                         for _ in range(ctx.volumes.b7_requests)]  # fmt: skip
            rows.json_p50.samples.append(percentile(latencies, 0.5) * 1000)
            rows.json_p99.samples.append(percentile(latencies, 0.99) * 1000)
            workbook = await _timed(pool, SUMMARY + "&format=xlsx", headers)
            communique = await _timed(pool, SUMMARY + "&format=pdf", headers)
            rows.xlsx.samples.append(workbook)
            rows.pdf.samples.append(communique)
            rows.both.samples.append(workbook + communique)
    finally:
        pool.close()


async def run(ctx: Context, figure: Figure, month: MonthSystem) -> None:
    await month.play_month()
    assert month.system is not None
    rows = SummaryRows.of(figure)
    await measure(ctx, month.system, rows)
    ctx.log(f"B7: JSON p99 {rows.json_p99.median:.0f} ms; xlsx {rows.xlsx.median:.2f} s, "
            f"pdf {rows.pdf.median:.2f} s")  # fmt: skip
