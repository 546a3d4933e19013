"""`python -m bench --quick` runs every figure at a tiny volume on the test servers and writes them
all, with B9's and B10's plots: the harness works. The figures themselves are never checked against their targets here."""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import pytest

from safety_month.infra.stack import Endpoints

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {f"B{n}" for n in range(1, 11)}
SHAPES = {"nearly flat (sub-linear)", "sub-linear", "linear", "super-linear"}


# Ten figures, B10 starting reports twice: minutes on a busy two-core machine.
@pytest.mark.timeout(600)
def test_the_quick_bench_writes_every_figure_with_numbers(infra: Endpoints, tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    env = {**os.environ, **infra.as_env()}
    result = subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "bench", "--quick", "--quiet", "--out", str(out)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=560, check=False,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    figures = json.loads(out.read_text())["figures"]
    assert set(figures) == FIGURES
    for name, figure in figures.items():
        assert figure["error"] is None, f"{name}: {figure['error']}"
        assert figure["rows"], name
        for row in figure["rows"]:
            assert isinstance(row["median"], int | float), (name, row["name"])
            assert math.isfinite(row["median"]), (name, row["name"])
    assert out.with_suffix(".md").read_text().startswith("| # | figure |")
    for plot in ("b9_scale.png", "b10_scale.png"):
        assert (tmp_path / plot).read_bytes().startswith(b"\x89PNG"), plot
    assert figures["B9"]["notes"]["shape"]["time_shape"] in SHAPES
    assert {"1x", "10x"} <= set(figures["B10"]["notes"])
