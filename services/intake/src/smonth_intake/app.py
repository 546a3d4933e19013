"""The composition root of intake."""

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import cache
from importlib.resources import files

import asyncpg
from fastapi import FastAPI
from starlette.middleware import Middleware

from smonth_intake import (
    account_pages,
    accounts,
    accounts_api,
    api,
    forms,
    handlers,
    pages,
    subscribers,
)
from smonth_intake.account_mail import AccountMail
from smonth_intake.blobs import BlobStore
from smonth_intake.config import IntakeSettings
from smonth_intake.keyless_tips import KeylessTips, tip_route
from smonth_intake.tipline import Tipline
from smonth_shared.campaign import Campaign, load_campaign
from smonth_shared.events import (
    ACCESS,
    CASE,
    LIAISON,
    MATERIAL,
    PROGRESS,
    SUMMARY,
    TIP,
    InboundEnvelope,
)
from smonth_shared.runtime import Runtime

MIGRATIONS = files("smonth_intake") / "migrations"


def build(settings: IntakeSettings) -> FastAPI:
    runtime = Runtime(
        settings, migrations=MIGRATIONS,
        publishes=[t.name for t in (PROGRESS, SUMMARY, LIAISON, MATERIAL, CASE, TIP, ACCESS)],
    )  # fmt: skip
    campaign = load_campaign(settings.campaign, settings.campaign_file)

    @cache
    def issuer() -> accounts.Issuer:
        return accounts.Issuer(
            jwt_secret=settings.safety_month_jwt_secret,
            access_ttl=timedelta(seconds=settings.access_token_ttl),
            session_lifetime=timedelta(days=settings.session_days),
            public_url=settings.public_url, campaign=campaign.id, outbox=runtime.outbox,
            cipher=settings.contact_cipher(),
        )  # fmt: skip

    @cache
    def deps() -> handlers.Deps:
        return handlers.Deps(
            campaign=campaign, clock=runtime.clock, outbox=runtime.outbox,
            cipher=settings.contact_cipher(), account_issuer=issuer(),
        )  # fmt: skip

    async def send_account_mail() -> None:
        await AccountMail(runtime.pool, settings.contact_cipher(), host=settings.smtp_host,
                          port=settings.smtp_port, sender=settings.smtp_sender).run()  # fmt: skip

    runtime.background("account-mail", send_account_mail)

    runtime.consume(
        settings.inbound_topic, effects=subscribers.effects(deps),
        consumer=settings.inbound_consumer, parse=InboundEnvelope.from_bytes,
        admit=subscribers.authenticated(runtime.verifier),
    )  # fmt: skip
    # The inbound topic's inbox: an envelope has one effect, whether the system sent it again
    # or the operator re-drove its dead letter.
    runtime.consume(
        settings.inbound_redriven_topic,
        effects=subscribers.registered_now(subscribers.effects(deps)),
        consumer=f"{settings.inbound_consumer}.redriven", inbox=settings.inbound_consumer,
        parse=InboundEnvelope.from_bytes, admit=subscribers.redriven(),
    )  # fmt: skip
    tipline = Tipline(runtime, deps, per_minute=settings.tip_rate_per_minute)
    resources = api.router(runtime, settings, deps, BlobStore(settings.blob_dir), tipline)
    app = runtime.http_app(
        title="safety-month intake",
        description="Every submission the campaign notice asks for, and tips from the public.",
        routers=[
            *resources,
            accounts_api.router(runtime, issuer),
            account_pages.router(),
            pages.router(settings, campaign, tipline),
        ],
        measured=[Middleware(KeylessTips, tipline=tipline, route=tip_route(resources),
                             limit=forms.JSON_LIMIT)],
    )  # fmt: skip
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
