"""exposure's use cases: a case reported, a case rejected (by the office, or as an event), a month
closed by the clock. Each runs inside its caller's transaction.

Every change of a province-month's assessment (its count, hence perhaps its status, or its
closing) is announced as exposure.month-assessed with the change; reports sums the counts,
notify acts on the status.
"""

import logging
from dataclasses import dataclass
from functools import partial
from uuid import UUID

import asyncpg

from smonth_exposure import domain, repository
from smonth_shared.campaign import Campaign
from smonth_shared.clock import Clock
from smonth_shared.consumer import Effect, PoisonEvent
from smonth_shared.db import Connection
from smonth_shared.events import CaseRejected, CaseReported, Envelope, Payload, new_event
from smonth_shared.outbox import Outbox

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    campaign: Campaign
    clock: Clock
    outbox: Outbox
    source: str = "exposure"

    @property
    def quota(self) -> int:
        return self.campaign.exposure.min_cases_per_province_per_month


async def record_case(conn: Connection, event: Envelope, *, deps: Deps) -> None:
    """case.reported: store the case with its verdict; a counted case adds to its month."""
    case = CaseReported.model_validate(event.data)
    verdict = domain.judge(deps.campaign, event.campaign, case.province, case.published_on)
    month = domain.month_of(case.published_on)
    if not await repository.add_case(conn, event.campaign, case, month, verdict, event.time):
        return  # the same case announced again under another event id
    if verdict.counted:
        await _recount(conn, deps, case.province, month, +1)
    else:
        log.info("case %s of %s is not counted: %s", case.case_id, case.province, verdict.reason)


async def apply_rejection(conn: Connection, event: Envelope, *, deps: Deps) -> None:
    """case.rejected from the topic: usually exposure's own, applied when the office rejected
    the case; one not applied yet (another deployment's, a replay) is applied now."""
    rejected = CaseRejected.model_validate(event.data)
    case = await repository.case_for_update(conn, rejected.case_id)
    if case is None:
        raise PoisonEvent(f"case {rejected.case_id} is unknown: no case.reported came before")
    if repository.rejection_of(case) is None:
        rejection = domain.Rejection(rejected.reason, rejected.rejected_by, event.time)
        await _reject(conn, deps, case, rejection)


async def reject_case(
    conn: Connection, deps: Deps, case_id: UUID, *, reason: str, rejected_by: str
) -> asyncpg.Record:
    """The office refuses a case: it stops counting, and case.rejected is announced."""
    case = await repository.case_for_update(conn, case_id)
    if case is None:
        raise domain.CaseNotFound(case_id)
    if (earlier := repository.rejection_of(case)) is not None:
        raise domain.CaseAlreadyRejected(case_id, earlier)
    announcement = CaseRejected(
        case_id=case_id, province=case["province"], reason=reason, rejected_by=rejected_by
    )
    await deps.outbox.add(conn, _event(deps, announcement, case["campaign"], case["province"]))
    await _reject(conn, deps, case, domain.Rejection(reason, rejected_by, deps.clock.now()))
    stored = await repository.case(conn, case_id)
    assert stored is not None
    return stored


async def close_month(conn: Connection, deps: Deps, month: str) -> list[domain.ProvinceMonth]:
    """Close `month` for every province not closed yet: each is announced met or missed, once."""
    provinces = [unit.code for unit in deps.campaign.provinces]
    rows = await repository.open_tallies_for_update(conn, deps.campaign.id, month, provinces)
    closed = [
        domain.ProvinceMonth(row["province"], month, row["cases_counted"], deps.quota).closing()
        for row in rows
    ]
    if closed:
        await repository.mark_closed(
            conn, deps.campaign.id, month, [m.province for m in closed], deps.clock.now()
        )
        await deps.outbox.add(conn, *(_assessed(deps, m) for m in closed))
    return closed


async def close_months(pool: asyncpg.Pool, deps: Deps) -> None:
    """The background job: close each exposure month when it is over by the clock, catching up
    at start on the months that ended while the service was down."""
    for month in deps.campaign.exposure_months:
        ends = domain.month_closes_at(month, deps.campaign.tz)
        while deps.clock.now() < ends:
            await deps.clock.sleep_until(ends)
        async with pool.acquire() as conn, conn.transaction():
            closed = await close_month(conn, deps, month)
        if closed:
            missed = sum(1 for m in closed if m.status == "missed")
            log.info("month %s closed for %d provinces: %d met, %d missed", month, len(closed),
                     len(closed) - missed, missed)  # fmt: skip
    log.info("every exposure month of campaign %s is closed", deps.campaign.id)


def effects(deps: Deps) -> dict[str, Effect]:
    return {
        "case.reported": partial(record_case, deps=deps),
        "case.rejected": partial(apply_rejection, deps=deps),
    }


async def _reject(
    conn: Connection, deps: Deps, case: asyncpg.Record, rejection: domain.Rejection
) -> None:
    await repository.mark_rejected(conn, case["case_id"], rejection)
    log.info("case %s of %s rejected by %s", case["case_id"], case["province"],
             rejection.rejected_by)  # fmt: skip
    if case["counted"]:
        await _recount(conn, deps, case["province"], case["month"], -1)


async def _recount(conn: Connection, deps: Deps, province: str, month: str, change: int) -> None:
    counted, closed = await repository.adjust_tally(conn, deps.campaign.id, province, month, change)
    after = domain.ProvinceMonth(province, month, counted, deps.quota, closed)
    before = after.counting(-change)
    if before.status != after.status:
        log.info("%s %s: %s -> %s", province, month, before.status, after.status)
    await deps.outbox.add(conn, _assessed(deps, after))


def _assessed(deps: Deps, tally: domain.ProvinceMonth) -> Envelope:
    return _event(deps, tally.assessment(), deps.campaign.id, tally.province)


def _event(deps: Deps, payload: Payload, campaign: str, subject: str) -> Envelope:
    return new_event(
        payload, source=deps.source, time=deps.clock.now(), campaign=campaign, subject=subject
    )
