"""intake's HTTP interface: thin adapters that authenticate, parse, and call one handler each,
one module per resource under routes/."""

from collections.abc import Callable

from fastapi import APIRouter

from smonth_intake import handlers
from smonth_intake.blobs import BlobStore
from smonth_intake.config import IntakeSettings
from smonth_intake.routes import (
    Accept,
    cases,
    desk,
    liaisons,
    materials,
    progress,
    reports,
    tips,
    units,
)  # fmt: skip
from smonth_intake.tipline import Tipline
from smonth_shared.runtime import Runtime


def router(
    runtime: Runtime, settings: IntakeSettings, deps: Callable[[], handlers.Deps],
    store: BlobStore, tipline: Tipline,
) -> list[APIRouter]:  # fmt: skip
    accept = Accept(runtime, tipline)
    return [
        progress.router(accept, deps),
        liaisons.router(accept, deps),
        reports.router(accept, deps, settings, store),
        materials.router(accept, deps, settings, store),
        cases.router(accept, deps),
        tips.router(accept, deps),
        units.router(accept, deps),
        desk.router(accept, deps),
    ]
