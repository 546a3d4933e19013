"""notify's use cases: one effect per event it consumes, and planning and sending reminders."""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from smonth_notify import domain, repository
from smonth_notify.channels import DeliveryError, Sender
from smonth_notify.domain import Channel, Planner, Status
from smonth_notify.messages import compose
from smonth_shared.backoff import Backoff
from smonth_shared.consumer import Effect
from smonth_shared.db import Connection
from smonth_shared.events import (
    Envelope,
    LiaisonDesignated,
    MonthAssessed,
    ReminderOutcome,
    SummarySubmitted,
    new_event,
)
from smonth_shared.outbox import TRANSIENT_ERRORS, Outbox

log = logging.getLogger(__name__)


async def on_liaison_designated(conn: Connection, event: Envelope) -> None:
    liaison = LiaisonDesignated.model_validate(event.data)
    await repository.lock_standings(conn, event.campaign, exclusive=False)
    await repository.record_liaison(conn, event.campaign, liaison)
    await repository.cancel_planned(conn, event.campaign, liaison.unit, "liaison_missing",
                                    note="complied: liaison designated", at=event.time)  # fmt: skip


async def on_summary_submitted(conn: Connection, event: Envelope) -> None:
    summary = SummarySubmitted.model_validate(event.data)
    await repository.lock_standings(conn, event.campaign, exclusive=False)
    await repository.record_summary(conn, event.campaign, summary)
    await repository.cancel_planned(conn, event.campaign, summary.unit, "summary_due",
                                    note="complied: summary report received", at=event.time)  # fmt: skip


async def on_month_assessed(conn: Connection, event: Envelope) -> None:
    assessment = MonthAssessed.model_validate(event.data)
    await repository.lock_standings(conn, event.campaign, exclusive=False)
    await repository.record_assessment(conn, event.campaign, assessment, event.time)
    if assessment.status == "met":
        await repository.cancel_planned(
            conn, event.campaign, assessment.province, "exposure_quota", month=assessment.month,
            note=f"complied: exposure quota of {assessment.month} met", at=event.time,
        )  # fmt: skip


EFFECTS: dict[str, Effect] = {
    "liaison.designated": on_liaison_designated,
    "summary.submitted": on_summary_submitted,
    "exposure.month-assessed": on_month_assessed,
}


async def plan(now: datetime, *, pool: asyncpg.Pool, planner: Planner) -> int:
    """Records the reminders due by `now` today that are not recorded yet; returns how many."""
    campaign = planner.campaign.id
    async with pool.acquire() as conn, conn.transaction():
        await repository.lock_standings(conn, campaign, exclusive=True)
        due = planner.reminders_due(now, await repository.standings(conn, campaign))
        return await repository.add_reminders(
            conn, campaign, due, daily_cap=planner.daily_cap, at=now
        )


async def expire(now: datetime, *, pool: asyncpg.Pool, planner: Planner, outbox: Outbox,
                 source: str = "notify") -> int:  # fmt: skip
    """Earlier days' leftovers: a reminder never tried is cancelled; one the server kept refusing
    all its day has failed, and says so (reminder.failed)."""
    campaign = planner.campaign
    today = now.astimezone(campaign.tz).date()
    async with pool.acquire() as conn, conn.transaction():
        for row in await repository.fail_undelivered(conn, campaign.id, today, now):
            await outbox.add(conn, _outcome_event(row, source=source, at=now, recipient=None,
                                                  error=row["note"]))  # fmt: skip
        return await repository.expire(conn, campaign.id, today, now)


async def due(now: datetime, *, pool: asyncpg.Pool, planner: Planner) -> list[UUID]:
    campaign = planner.campaign
    return await repository.due(pool, campaign.id, now.astimezone(campaign.tz).date(), now)


@dataclass(frozen=True)
class Delivery:
    """What sending a reminder needs."""

    pool: asyncpg.Pool
    outbox: Outbox
    planner: Planner
    senders: Mapping[Channel, Sender]
    fallback_email: str
    max_attempts: int
    backoff: Callable[[], Backoff]
    now: Callable[[], datetime]
    # How long after a round of failed attempts a reminder is tried again (clock time).
    retry_interval: timedelta = timedelta(minutes=10)
    source: str = "notify"


async def deliver(reminder_id: UUID, *, delivery: Delivery) -> Status | None:
    """Sends one planned reminder, retrying with back-off, and records the outcome with its event.

    Each attempt is marked 'sending' in its own transaction before the message leaves, and 'sent'
    right after the server accepted it; a sender stopped in between leaves 'sending', which the
    next sender retries (the one duplicate that cannot be ruled out at the server's edge).
    A server that refuses this message for good fails it at once; one that is slow or away only
    postpones it: after `max_attempts` it waits `retry_interval` and is tried again, until its
    day is over (then `expire` records it failed). Returns the reminder's status as this sender
    left it, or None if it was not this sender's to send.
    """
    d = delivery
    async with d.pool.acquire() as conn, conn.transaction():
        row = await repository.claim(conn, reminder_id)
        if row is None:  # cancelled meanwhile, or another sender has it
            return None
        liaison = await repository.liaison(conn, row["campaign"], row["unit"])
        occasion = d.planner.occasion(row["reason"], row["occasion"])
        to = domain.address(row["channel"], liaison, d.fallback_email)
        if occasion is None or to is None:
            note = ("no such occasion in the campaign file any more" if occasion is None
                    else "no mobile number: the unit has not designated a liaison")  # fmt: skip
            await repository.finish(conn, reminder_id, "cancelled", note=note, at=d.now())
            return "cancelled"
    message = compose(d.planner.campaign, occasion, row["unit"],
                      liaison_name=liaison.name if liaison else None,
                      to_fallback=liaison is None)  # fmt: skip
    sender, backoff = d.senders[row["channel"]], d.backoff()
    attempts, tried_now = row["attempts"], 1
    while True:
        try:
            await sender.send(to, message, reminder_id=reminder_id, at=d.now())
            failure = None
        except DeliveryError as refused:
            failure = refused
        if failure is None or failure.permanent or tried_now >= d.max_attempts:
            break
        await asyncio.sleep(backoff.next())
        counted = await repository.count_attempt(d.pool, reminder_id)
        if counted is None:  # released to another sender meanwhile: its outcome is theirs
            return None
        attempts, tried_now = counted, tried_now + 1
    # The records are shielded: a service stopping now still records what the server has
    # accepted, rather than leave it 'sending' and have it sent again after the restart.
    if failure is not None and not failure.permanent:
        retry_at = d.now() + d.retry_interval
        log.warning("reminder %s not delivered after %d attempts (%s); again at %s",
                    reminder_id, attempts, failure, retry_at.isoformat())  # fmt: skip
        await asyncio.shield(_record(d, lambda conn: repository.postpone(
            conn, reminder_id, retry_at=retry_at, recipient=to, note=str(failure))))  # fmt: skip
        return "planned"
    error = None if failure is None else str(failure)
    event = _outcome_event(row, source=d.source, at=d.now(), recipient=to, error=error,
                           attempts=attempts)  # fmt: skip

    status: Status = "sent" if error is None else "failed"

    async def finish(conn: Connection) -> None:
        await repository.finish(conn, row["id"], status, recipient=to, note=error, at=event.time)
        await d.outbox.add(conn, event)

    await asyncio.shield(_record(d, finish))
    return status


def _outcome_event(
    row: asyncpg.Record, *, source: str, at: datetime, recipient: str | None,
    error: str | None, attempts: int | None = None,
) -> Envelope:  # fmt: skip
    outcome = ReminderOutcome(
        reminder_id=row["id"], unit=row["unit"], reason=row["reason"], occasion=row["occasion"],
        channel=row["channel"], recipient=recipient or row["recipient"] or "",
        attempts=attempts or row["attempts"], error=error,
    )  # fmt: skip
    return new_event(
        outcome, source=source, time=at, campaign=row["campaign"], subject=row["unit"],
        event_type="reminder.sent" if error is None else "reminder.failed",
    )  # fmt: skip


async def _record(d: Delivery, write: Callable[[Connection], Awaitable[None]]) -> None:
    """The message has left (or is known not to have): lose no outcome to a database restart."""
    backoff = Backoff()
    while True:
        try:
            async with d.pool.acquire() as conn, conn.transaction():
                await write(conn)
            return
        except TRANSIENT_ERRORS as outage:
            log.warning("outcome of a reminder not recorded yet: %s", outage)
            await asyncio.sleep(backoff.next())
