"""`python -m smonth_reports [migrate|serve|replay]`: replay rebuilds the read model (with the
service stopped) and draws its progress on the terminal."""

import asyncio
import sys

from smonth_reports.app import MIGRATIONS, build
from smonth_reports.config import ReportsSettings
from smonth_shared.entrypoint import run_service


def _replay() -> None:
    from smonth_reports.replay import ReplayRefused, replay

    def draw(done: int, total: int) -> None:
        share = done / total if total else 1.0
        bar = "#" * int(share * 40)
        print(f"\rreplay [{bar:<40}] {share:4.0%} {done}/{total}", end="", file=sys.stderr)

    try:
        result = asyncio.run(replay(ReportsSettings(), progress=draw))  # type: ignore[call-arg]
    except ReplayRefused as refusal:
        sys.exit(f"\nreplay refused: {refusal}")
    print(f"\nreplayed: {result.applied} events applied, {result.skipped} skipped, "
          f"{result.seconds:.1f} s", file=sys.stderr)  # fmt: skip


if sys.argv[1:2] == ["replay"]:
    _replay()
else:
    run_service(ReportsSettings, build, MIGRATIONS)
