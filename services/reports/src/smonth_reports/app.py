"""The composition root of reports."""

from importlib.resources import files

from fastapi import FastAPI

from smonth_reports import api, handlers
from smonth_reports.config import ReportsSettings
from smonth_shared.events import COMPLIANCE, TIP
from smonth_shared.runtime import Runtime

MIGRATIONS = files("smonth_reports") / "migrations"


def build(settings: ReportsSettings) -> FastAPI:
    runtime = Runtime(settings, migrations=MIGRATIONS)
    runtime.consume(TIP.name, COMPLIANCE.name, effects=handlers.EFFECTS)
    months = [f"2021-{month:02d}" for month in range(6, 13)]
    return runtime.http_app(
        title="safety-month reports",
        description="The national summary of the campaign, built from every event.",
        routers=[api.router(runtime, months=months)],
    )
