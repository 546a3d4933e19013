"""The composition root of intake."""

from functools import cache
from importlib.resources import files

from cryptography.fernet import Fernet
from fastapi import FastAPI

from smonth_intake import api, handlers
from smonth_intake.config import IntakeSettings
from smonth_shared.campaign import load_campaign
from smonth_shared.events import CASE, LIAISON, MATERIAL, PROGRESS, SUMMARY, TIP
from smonth_shared.runtime import Runtime

MIGRATIONS = files("smonth_intake") / "migrations"


def build(settings: IntakeSettings) -> FastAPI:
    runtime = Runtime(
        settings, migrations=MIGRATIONS,
        publishes=[t.name for t in (PROGRESS, SUMMARY, LIAISON, MATERIAL, CASE, TIP)],
    )  # fmt: skip
    campaign = load_campaign(settings.campaign, settings.campaign_file)

    @cache
    def deps() -> handlers.Deps:
        return handlers.Deps(
            campaign=campaign, clock=runtime.clock, outbox=runtime.outbox,
            cipher=Fernet(settings.tip_contact_key.encode()),
        )  # fmt: skip

    return runtime.http_app(
        title="safety-month intake",
        description="Every submission the campaign notice asks for, and tips from the public.",
        routers=[api.router(runtime, deps)],
    )
