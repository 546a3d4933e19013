"""The composition root of reports."""

from importlib.resources import files

from fastapi import FastAPI

from smonth_reports import api, dashboard, handlers
from smonth_reports.config import ReportsSettings
from smonth_reports.publishing import Publisher
from smonth_shared.campaign import load_campaign
from smonth_shared.events import (
    CASE,
    COMPLIANCE,
    LIAISON,
    MATERIAL,
    NATIONAL,
    PROGRESS,
    REMINDER,
    SUMMARY,
    TIP,
    read_event,
)
from smonth_shared.runtime import Runtime, freeze_start_up_objects

MIGRATIONS = files("smonth_reports") / "migrations"
CONSUMED_TOPICS = tuple(
    t.name for t in (PROGRESS, SUMMARY, LIAISON, MATERIAL, CASE, TIP, COMPLIANCE, REMINDER)
)


def build(settings: ReportsSettings) -> FastAPI:
    runtime = Runtime(settings, migrations=MIGRATIONS, publishes=[NATIONAL.name])
    campaign = load_campaign(settings.campaign, settings.campaign_file)
    # Every effect reads its event's payload: read with the envelope in one pass. Batches of up
    # to 2,000: the tallies' triggers cost about the same per statement whatever its size.
    runtime.consume(
        *CONSUMED_TOPICS, effects=handlers.EFFECTS, batch_effects=handlers.BATCH_EFFECTS,
        parse=read_event, max_records=2000,
    )  # fmt: skip
    publisher = Publisher(
        started_pool=lambda: runtime.pool, outbox=runtime.outbox, clock=runtime.clock,
        base_url=settings.base_url,
    )  # fmt: skip
    runtime.background("publish-on-schedule", lambda: publisher.publish_on_schedule(campaign))
    freeze_start_up_objects()
    app = runtime.http_app(
        title="safety-month reports",
        description="The national summary of the campaign, built from every event: JSON, "
        "workbook, CSV, HTML, PDF, and a live dashboard for the office's staff.",
        routers=[
            api.router(runtime, publisher, campaign),
            dashboard.router(campaign, settings.intake_url),
        ],
    )
    app.state.publisher = publisher  # its `caught_up` tells an operator's check (or a test) more
    return app
