"""How a cost grows with the work (B9, B10): the exponent k of cost ∝ volume^k fitted on the
measured points, its name (linear, sub-linear...), and the PNG plot of the points beside the line a
linear cost would follow from the smallest volume."""

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from matplotlib.figure import Figure  # no pyplot: files only, no display and no global state
from matplotlib.ticker import FuncFormatter, NullFormatter


def growth_exponent(volumes: Sequence[float], costs: Sequence[float]) -> float:
    """The slope of log(cost) against log(volume), least squares: 1 is linear."""
    if len(volumes) < 2 or min(costs) <= 0:
        return float("nan")
    slope, _intercept = np.polyfit(np.log(volumes), np.log(costs), 1)
    return float(slope)


def shape(exponent: float) -> str:
    """A tenth either side of 1 is read as linear: the 2-core machines are noisy."""
    if math.isnan(exponent):
        return "unknown"
    if exponent < 0.2:
        return "nearly flat (sub-linear)"
    if exponent < 0.9:
        return "sub-linear"
    if exponent <= 1.1:
        return "linear"
    return "super-linear"


@dataclass(frozen=True)
class Curve:
    """One measured cost at each volume; `rising` is False for a throughput (req/s), whose
    linear reference is flat."""

    label: str
    unit: str
    costs: Sequence[float]
    rising: bool = True


def plot(path: Path, title: str, x_label: str, volumes: Sequence[float],
         curves: Sequence[Curve]) -> Path:  # fmt: skip
    """A panel per curve, both axes logarithmic, with the linear reference dashed."""
    figure = Figure(figsize=(5.2 * len(curves), 4.2))
    axes = figure.subplots(1, len(curves), squeeze=False)
    for axis, curve in zip(axes[0], curves, strict=True):
        exponent = growth_exponent(volumes, curve.costs)
        axis.plot(volumes, curve.costs, "o-", label=f"measured (k = {exponent:.2f})")
        first_volume, first_cost = volumes[0], curve.costs[0]
        linear = [first_cost * (volume / first_volume if curve.rising else 1.0)
                  for volume in volumes]  # fmt: skip
        axis.plot(volumes, linear, "--", color="grey",
                  label="linear from the smallest" if curve.rising else "constant")  # fmt: skip
        for volume, cost in zip(volumes, curve.costs, strict=True):
            axis.annotate(_plain(cost), (volume, cost), textcoords="offset points",
                          xytext=(4, 6), fontsize=8)  # fmt: skip
        axis.set_xscale("log")
        axis.set_yscale("log")
        # The volumes measured, named in full: a log axis's own ticks between them crowd.
        axis.set_xticks(list(volumes))
        axis.xaxis.set_major_formatter(_PLAIN)
        axis.xaxis.set_minor_formatter(NullFormatter())
        for formatter in (axis.yaxis.set_major_formatter, axis.yaxis.set_minor_formatter):
            formatter(_PLAIN)  # 20 and 30, not 2×10¹ and 3×10¹
        axis.set_xlabel(x_label)
        axis.set_ylabel(f"{curve.label} ({curve.unit})")
        axis.set_title(f"{curve.label}: {shape(exponent) if curve.rising else _rate(exponent)}",
                       fontsize=10)  # fmt: skip
        axis.grid(True, which="both", alpha=0.3)
        axis.legend(fontsize=8)
    figure.suptitle(title)
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=110)
    return path


def _plain(value: float) -> str:
    """2,892 and 114,844 in full; 0.31 and 67.3 to three digits."""
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


_PLAIN = FuncFormatter(lambda value, _position: _plain(value))


def _rate(exponent: float) -> str:
    """A throughput's exponent: 0 is a rate that holds up as the volume grows."""
    if math.isnan(exponent):
        return "unknown"
    if abs(exponent) <= 0.1:
        return "holds up"
    return "rises" if exponent > 0 else "falls"
