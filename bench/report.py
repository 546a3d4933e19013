"""What a figure measured, how it compares with its baseline and its target, and how it is shown:
a table on the terminal and a JSON file. Medians and spreads, never a single run: the machines
have two cores and are noisy."""

import json
import os
import platform
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

Check = Callable[[float, float | None], bool]  # (median, ratio to the baseline) -> target met


@dataclass
class Row:
    """One measured quantity of a figure: a sample per round, and its baseline's if it has one."""

    name: str
    unit: str
    samples: list[float]
    baseline: list[float] = field(default_factory=list)
    target: str = "—"
    check: Check | None = None
    how: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples) if self.samples else float("nan")

    @property
    def spread(self) -> tuple[float, float]:
        """The lowest and the highest round."""
        return (min(self.samples), max(self.samples)) if self.samples else (0.0, 0.0)

    @property
    def baseline_median(self) -> float | None:
        return statistics.median(self.baseline) if self.baseline else None

    @property
    def ratio(self) -> float | None:
        base = self.baseline_median
        if base is None or base == 0:
            return None
        return self.median / base

    @property
    def met(self) -> bool | None:
        if self.check is None or not self.samples:
            return None
        return self.check(self.median, self.ratio)

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name, "unit": self.unit, "median": _finite(self.median),
            "min": self.spread[0], "max": self.spread[1], "samples": self.samples,
            "baseline_median": self.baseline_median, "baseline_samples": self.baseline,
            "ratio": self.ratio, "target": self.target, "met": self.met, "how": self.how,
        }  # fmt: skip


@dataclass
class Figure:
    id: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0
    error: str | None = None

    def row(self, name: str, unit: str, **options: Any) -> Row:
        row = Row(name, unit, [], **options)
        self.rows.append(row)
        return row

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title, "seconds": round(self.seconds, 1), "error": self.error,
            "rows": [row.to_json() for row in self.rows], "notes": self.notes,
        }  # fmt: skip


def at_least_ratio(limit: float) -> Check:
    return lambda _median, ratio: ratio is not None and ratio >= limit


def at_most(limit: float) -> Check:
    return lambda median, _ratio: median <= limit


def below(limit: float) -> Check:
    return lambda median, _ratio: median < limit


def _number(value: float | None, unit: str = "") -> str:
    if value is None or value != value:  # NaN
        return "—"
    if unit == "ratio" or abs(value) < 10:
        text = f"{value:.2f}"
    elif abs(value) < 1000:
        text = f"{value:.0f}"
    else:
        text = f"{value:,.0f}"
    return text


def table(figures: Sequence[Figure], *, title: str) -> Table:
    shown = Table(title=title, show_lines=False, header_style="bold")
    for column, justify in (("#", "left"), ("figure", "left"), ("median", "right"),
                            ("spread (min–max)", "right"), ("baseline", "right"),
                            ("ratio", "right"), ("target", "left"), ("met", "center")):  # fmt: skip
        shown.add_column(column, justify=justify)  # type: ignore[arg-type]
    for figure in figures:
        if figure.error:
            shown.add_row(figure.id, figure.title, "[red]failed[/red]", figure.error[:60],
                          "", "", "", "[red]✗[/red]")  # fmt: skip
            continue
        for index, row in enumerate(figure.rows):
            low, high = row.spread
            met = {True: "[green]✓[/green]", False: "[red]✗[/red]", None: ""}[row.met]
            shown.add_row(
                figure.id if index == 0 else "",
                f"{row.name} ({row.unit})",
                _number(row.median),
                f"{_number(low)}–{_number(high)} ×{len(row.samples)}",
                _number(row.baseline_median),
                _number(row.ratio, "ratio"),
                row.target,
                met,
            )
    return shown


def markdown(figures: Sequence[Figure]) -> str:
    """The same table for the README."""
    lines = ["| # | figure | median | spread | baseline | ratio | target | met |",
             "| --- | --- | ---: | ---: | ---: | ---: | --- | :---: |"]  # fmt: skip
    for figure in figures:
        for index, row in enumerate(figure.rows):
            low, high = row.spread
            met = {True: "yes", False: "**no**", None: ""}[row.met]
            lines.append(
                f"| {figure.id if index == 0 else ''} | {row.name} ({row.unit}) "
                f"| {_number(row.median)} | {_number(low)}–{_number(high)} "
                f"| {_number(row.baseline_median)} | {_number(row.ratio, 'ratio')} "
                f"| {row.target} | {met} |"
            )
    return "\n".join(lines)


def write_json(path: Path, figures: Sequence[Figure], context: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    document = {
        "finished_at": datetime.now(UTC).isoformat(),
        "machine": {
            "cpus": _cpus(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        **context,
        "figures": {figure.id: figure.to_json() for figure in figures},
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False, default=_nan_free) + "\n")


def _nan_free(value: object) -> object:
    return str(value)


def _finite(value: float) -> float | None:
    return None if value != value else value


def _cpus() -> int | None:
    return os.cpu_count()


def print_table(figures: Sequence[Figure], *, title: str) -> None:
    console = Console()
    if not console.is_terminal:
        console = Console(width=170)
    console.print(table(figures, title=title))
