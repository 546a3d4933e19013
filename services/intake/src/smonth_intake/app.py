"""The composition root of intake."""

import contextlib
from collections.abc import AsyncIterator
from functools import cache
from importlib.resources import files

import asyncpg
from fastapi import FastAPI

from smonth_intake import api, forms, handlers, subscribers
from smonth_intake.blobs import BlobStore
from smonth_intake.config import IntakeSettings
from smonth_shared.campaign import Campaign, load_campaign
from smonth_shared.events import CASE, LIAISON, MATERIAL, PROGRESS, SUMMARY, TIP, InboundEnvelope
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
            cipher=settings.contact_cipher(),
        )  # fmt: skip

    runtime.consume(
        settings.inbound_topic, effects=subscribers.effects(deps),
        consumer=settings.inbound_consumer, parse=InboundEnvelope.from_bytes,
    )  # fmt: skip
    app = runtime.http_app(
        title="safety-month intake",
        description="Every submission the campaign notice asks for, and tips from the public.",
        routers=[api.router(runtime, settings, deps, BlobStore(settings.blob_dir))],
    )
    uploads = {"/v1/materials": forms.upload_limit(settings.max_upload_bytes),
               "/v1/summary-reports": forms.upload_limit(settings.max_summary_bytes)}  # fmt: skip
    app.add_middleware(forms.DeclaredLength, limits=uploads, default=forms.JSON_LIMIT)
    _seed_registry_at_start(app, runtime, campaign)
    return app


def _seed_registry_at_start(app: FastAPI, runtime: Runtime, campaign: Campaign) -> None:
    """Units of the campaign file are in the registry before the first request is answered."""
    started = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with started(app):
            try:
                async with runtime.pool.acquire() as conn, conn.transaction():
                    await handlers.seed_units(conn, campaign)
            except asyncpg.UndefinedTableError:
                raise RuntimeError(
                    "intake's tables are missing: run `python -m smonth_intake migrate` first"
                ) from None
            yield

    app.router.lifespan_context = lifespan
