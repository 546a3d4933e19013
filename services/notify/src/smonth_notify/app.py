"""The composition root of notify."""

from datetime import timedelta
from importlib.resources import files

import httpx
from fastapi import FastAPI

from smonth_notify import api, handlers
from smonth_notify.channels import EmailSender, Sender, SmsSender
from smonth_notify.config import NotifySettings
from smonth_notify.domain import Channel, Planner
from smonth_notify.handlers import Delivery
from smonth_notify.metrics import observe_reminders
from smonth_notify.scheduler import Scheduler
from smonth_shared.backoff import Backoff
from smonth_shared.campaign import load_campaign
from smonth_shared.events import COMPLIANCE, LIAISON, REMINDER, SUMMARY
from smonth_shared.runtime import Runtime

MIGRATIONS = files("smonth_notify") / "migrations"


def build(settings: NotifySettings) -> FastAPI:
    runtime = Runtime(settings, migrations=MIGRATIONS, publishes=[REMINDER.name])
    runtime.consume(LIAISON.name, SUMMARY.name, COMPLIANCE.name, effects=handlers.EFFECTS)
    campaign = load_campaign(settings.campaign, settings.campaign_file)
    channels: list[Channel] = ["email", "sms"] if settings.sms_gateway_url else ["email"]
    planner = Planner(campaign, channels=channels, daily_cap=settings.daily_cap_per_unit)

    async def schedule() -> None:
        async with httpx.AsyncClient(timeout=settings.sms_timeout) as client:
            senders: dict[Channel, Sender] = {"email": EmailSender(
                host=settings.smtp_host, port=settings.smtp_port, sender=settings.smtp_sender,
                sender_name=campaign.office.name, timeout=settings.smtp_timeout,
            )}  # fmt: skip
            if settings.sms_gateway_url:
                senders["sms"] = SmsSender(client, url=settings.sms_gateway_url)
            delivery = Delivery(
                pool=runtime.pool, outbox=runtime.outbox, planner=planner, senders=senders,
                fallback_email=settings.office_fallback_email or campaign.office.email,
                max_attempts=settings.send_max_attempts, now=runtime.clock.now,
                backoff=lambda: Backoff(settings.send_backoff_initial, settings.send_backoff_max),
                retry_interval=timedelta(seconds=settings.send_retry_interval),
            )  # fmt: skip
            scheduler = Scheduler(dsn=settings.database_url, clock=runtime.clock,
                                  delivery=delivery, concurrency=settings.send_concurrency)  # fmt: skip
            await scheduler.run()

    runtime.background("reminder-scheduler", schedule)
    runtime.observe_at_scrape(observe_reminders)
    return runtime.http_app(
        title="safety-month notify",
        description="Reminds liaisons of what their unit still owes, on working days, once.",
        routers=[api.router(runtime, office_tz=campaign.tz)],
    )
