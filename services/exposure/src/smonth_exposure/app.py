"""The composition root of exposure."""

from importlib.resources import files

from fastapi import FastAPI

from smonth_exposure import api, handlers
from smonth_exposure.config import ExposureSettings
from smonth_shared.campaign import load_campaign
from smonth_shared.events import CASE, COMPLIANCE
from smonth_shared.runtime import Runtime

MIGRATIONS = files("smonth_exposure") / "migrations"


def build(settings: ExposureSettings) -> FastAPI:
    runtime = Runtime(settings, migrations=MIGRATIONS, publishes=[CASE.name, COMPLIANCE.name])
    campaign = load_campaign(settings.campaign, settings.campaign_file)
    deps = handlers.Deps(campaign=campaign, clock=runtime.clock, outbox=runtime.outbox)
    runtime.consume(CASE.name, effects=handlers.effects(deps))
    runtime.background("month-closing", lambda: handlers.close_months(runtime.pool, deps))
    return runtime.http_app(
        title="safety-month exposure",
        description="Typical cases exposed by each provincial unit against the monthly quota.",
        routers=[api.router(runtime, deps)],
    )
