"""intake's use cases: check who acts, validate against the campaign, store, announce.

Each runs inside the caller's transaction (an HTTP request or an inbound envelope), so the state
and its event commit together, and both adapters get exactly the same rules.
"""

import logging
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from cryptography.fernet import MultiFernet

from smonth_intake import accounts, domain, repository
from smonth_intake.models import (
    CaseSubmission,
    LiaisonDesignation,
    MaterialSubmission,
    ProgressReport,
    SummaryReport,
    TipContact,
    TipLookup,
    TipOutcome,
    TipSubmission,
)
from smonth_shared.auth import Principal, forbid_other_unit
from smonth_shared.campaign import Campaign, Unit
from smonth_shared.clock import Clock
from smonth_shared.db import Connection
from smonth_shared.events import (
    AttachedFile,
    CaseReported,
    Envelope,
    LiaisonDesignated,
    MaterialSubmitted,
    Payload,
    ProgressReported,
    SummarySubmitted,
    TipReceived,
    TipResolved,
    new_event,
)
from smonth_shared.outbox import Outbox, Statement
from smonth_shared.problems import Problem
from smonth_shared.telemetry import current_trace_headers
from smonth_shared.wording import chinese_day

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Deps:
    campaign: Campaign
    clock: Clock
    outbox: Outbox
    cipher: MultiFernet
    source: str = "intake"
    units: repository.UnitCache = field(default_factory=repository.UnitCache)
    # Accounts follow the liaison: without it (a tool without mail), designations touch none.
    account_issuer: accounts.Issuer | None = None


async def submit_progress(
    conn: Connection, deps: Deps, report: ProgressReport, *, principal: Principal
) -> dict[str, Any]:
    campaign, now = deps.campaign, deps.clock.now()
    await check_unit(conn, deps, principal, report.unit)
    await repository.lock(conn, f"progress:{campaign.id}:{report.unit}")
    before, after = await repository.progress_neighbours(
        conn, campaign.id, report.unit, report.as_of
    )
    domain.check_progress(
        campaign, report, domain.office_today(campaign, now), before=before, after=after
    )
    submission_id = uuid4()
    revision = await repository.insert_progress(
        conn, submission_id=submission_id, campaign=campaign.id, unit=report.unit,
        as_of=report.as_of, indicators=report.indicators, submitted_by=principal.sub,
        received_at=now,
    )  # fmt: skip
    await _announce(conn, deps, ProgressReported(
        submission_id=submission_id, unit=report.unit, as_of=report.as_of, revision=revision,
        indicators=report.indicators,
    ), subject=report.unit)  # fmt: skip
    return {"id": str(submission_id), "submission_id": str(submission_id), "revision": revision,
            "status": "received"}  # fmt: skip


async def designate_liaison(
    conn: Connection, deps: Deps, unit: str, liaison: LiaisonDesignation, *, principal: Principal
) -> dict[str, Any]:
    campaign, now = deps.campaign, deps.clock.now()
    await check_unit(conn, deps, principal, unit)
    await repository.lock(conn, f"liaison:{campaign.id}:{unit}")
    active = await repository.active_liaison(conn, campaign.id, unit)
    if active is not None and active[1] == liaison:
        return {"id": str(active[0]), "liaison_id": str(active[0]), "status": "unchanged"}
    liaison_id = uuid4()
    await repository.designate_liaison(
        conn, liaison_id=liaison_id, campaign=campaign.id, unit=unit, liaison=liaison,
        designated_by=principal.sub, designated_at=now,
    )  # fmt: skip
    await _announce(conn, deps, LiaisonDesignated(
        unit=unit, designated_at=now, **liaison.model_dump()), subject=unit)  # fmt: skip
    if deps.account_issuer is not None:
        await accounts.replace_liaison(conn, deps.account_issuer, unit=unit, name=liaison.name,
                                       email=liaison.email, by=principal,
                                       now=accounts.now())  # fmt: skip
    return {"id": str(liaison_id), "liaison_id": str(liaison_id), "status": "designated"}


async def submit_summary(
    conn: Connection, deps: Deps, report: SummaryReport, *, file: AttachedFile | None,
    principal: Principal,
) -> dict[str, Any]:  # fmt: skip
    """A resubmission replaces the title and text (and the file, if it brings one); the first
    receipt, and an on-time receipt once earned, are kept."""
    campaign, now = deps.campaign, deps.clock.now()
    await check_unit(conn, deps, principal, report.unit)
    await repository.lock(conn, f"summary:{campaign.id}:{report.unit}")
    earlier = await repository.summary_state(conn, campaign.id, report.unit)
    report_id, receipt, kept_file = earlier or (uuid4(), None, None)
    receipt = domain.summary_receipt(campaign, now, receipt)
    file = file or kept_file
    await repository.save_summary(
        conn, report_id=report_id, submission_id=uuid4(), campaign=campaign.id,
        unit=report.unit, title=report.title, body=report.body, file=file, receipt=receipt,
        on_time_now=campaign.summary_is_on_time(now), submitted_by=principal.sub,
        received_at=now,
    )  # fmt: skip
    await _announce(conn, deps, SummarySubmitted(
        report_id=report_id, unit=report.unit, title=report.title, body=report.body,
        received_at=now, on_time=receipt.on_time, first_received_at=receipt.first_received_at,
        file=file,
    ), subject=report.unit)  # fmt: skip
    return {"id": str(report_id), "report_id": str(report_id), "received_at": now.isoformat(),
            "on_time": receipt.on_time, "status": "received"}  # fmt: skip


async def submit_material(
    conn: Connection, deps: Deps, material: MaterialSubmission, *, file: AttachedFile | None,
    principal: Principal,
) -> dict[str, Any]:  # fmt: skip
    await check_unit(conn, deps, principal, material.unit)
    material_id, now = uuid4(), deps.clock.now()
    await repository.insert_material(
        conn, material_id=material_id, campaign=deps.campaign.id, material=material, file=file,
        submitted_by=principal.sub, received_at=now,
    )  # fmt: skip
    await _announce(conn, deps, MaterialSubmitted(
        material_id=material_id, file=file, **material.model_dump(),
    ), subject=material.unit)  # fmt: skip
    return {"id": str(material_id), "material_id": str(material_id), "status": "received"}


async def report_case(
    conn: Connection, deps: Deps, case: CaseSubmission, *, principal: Principal
) -> dict[str, Any]:
    campaign, now = deps.campaign, deps.clock.now()
    forbid_other_unit(principal, case.province, "province")
    domain.check_province(await deps.units.unit(conn, campaign.id, case.province), case.province)
    domain.check_case(campaign, case, domain.office_today(campaign, now))
    case_id = await repository.insert_case(
        conn, case_id=uuid4(), campaign=campaign.id, case=case, reported_by=principal.sub,
        received_at=now,
    )  # fmt: skip
    if case_id is None:
        earlier = await repository.case_with_url(conn, case.province, str(case.url))
        assert earlier is not None  # cases are never deleted
        day = earlier["published_on"]
        raise Problem(
            409, "Case already reported",
            f"Province {case.province} already reported {case.url} as case "
            f"{earlier['case_id']} ({earlier['title']!r}, {earlier['media_outlet']}, "
            f"{earlier['published_on']}).",
            f"该省已报送过此链接的典型案例：“{earlier['title']}”（{earlier['media_outlet']}，"
            f"{chinese_day(day)}，编号 {earlier['case_id']}），无需重复报送。",
            extra={"existing_id": str(earlier["case_id"]), "existing_title": earlier["title"]},
        )  # fmt: skip
    await _announce(conn, deps, CaseReported(case_id=case_id, **case.model_dump(mode="json")),
                    subject=case.province)  # fmt: skip
    return {"id": str(case_id), "case_id": str(case_id), "status": "received"}


@dataclass(frozen=True)
class AcceptedTip:
    """A tip that passed every rule, with its row, its event and the tipster's answer, ready to
    be written: alone (`submit_tip`), or with other requests' tips (grouped.Grouped)."""

    row: tuple[Any, ...]  # the columns of repository.new_tips
    event: Envelope
    answer: dict[str, Any]
    trace: dict[str, str]  # the trace context of the request, which its event continues


async def accept_tip(
    conn: Connection | asyncpg.Pool, deps: Deps, tip: TipSubmission
) -> AcceptedTip:
    """Checks the tip and makes its row, event and answer; `conn` is read only for a province
    the unit cache does not know yet."""
    campaign, now = deps.campaign, deps.clock.now()
    domain.check_province(await deps.units.unit(conn, campaign.id, tip.province), tip.province)
    domain.check_tip(tip, domain.office_today(campaign, now))
    tip_id, receipt_code = uuid4(), domain.new_receipt_code()
    named = tip.contact is not None and tip.contact.named
    contact = tip.contact.model_dump_json(exclude_none=True) if tip.contact and named else None
    row = repository.tip_row(
        tip_id=tip_id, campaign=campaign.id, tip=tip,
        contact_encrypted=deps.cipher.encrypt(contact.encode()) if contact else None,
        receipt_hash=domain.receipt_hash(receipt_code), received_at=now,
    )  # fmt: skip
    event = new_event(TipReceived(
        tip_id=tip_id, province=tip.province, industry=tip.industry, category=tip.category,
        description=tip.description, city=tip.city, location=tip.location,
        enterprise=tip.enterprise, occurred_on=tip.occurred_on, received_at=now, named=named,
    ), source=deps.source, time=now, campaign=campaign.id, subject=tip.province)  # fmt: skip
    answer = {"id": str(tip_id), "tip_id": str(tip_id), "receipt_code": receipt_code,
              "status": "received"}  # fmt: skip
    return AcceptedTip(row, event, answer, current_trace_headers())


async def write_tips(conn: Connection, outbox: Outbox, tips: list[AcceptedTip]) -> None:
    """The tips' rows and their events, in one statement: a transaction of its own if the
    caller has none."""
    await outbox.add(
        conn, *(t.event for t in tips), state=repository.new_tips([t.row for t in tips]),
        traces=[t.trace for t in tips],
    )  # fmt: skip


async def submit_tip(conn: Connection, deps: Deps, tip: TipSubmission) -> dict[str, Any]:
    accepted = await accept_tip(conn, deps, tip)
    await write_tips(conn, deps.outbox, [accepted])
    return accepted.answer


async def look_up_tip(conn: Connection, lookup: TipLookup) -> dict[str, Any]:
    """What the tipster may see: the status and the public reply, nothing else."""
    row = await repository.tip_by_receipt(conn, domain.receipt_hash(lookup.receipt_code))
    if row is None:
        raise Problem(
            404, "Unknown receipt code", "No tip has this receipt code; check it and try again.",
            "没有与此回执码对应的举报，请核对后重试。",
        )  # fmt: skip
    return {"status": row["status"], "reply": row["reply"]}


async def read_tip_contact(
    conn: Connection, deps: Deps, tip_id: UUID, *, principal: Principal
) -> dict[str, Any]:
    """Only the unit of the tip's province reads the tipster's contact; each read is recorded."""
    tip = await _tip(conn, tip_id)
    if principal.role != "unit" or principal.unit != tip["province"]:
        raise Problem(
            403, "Forbidden",
            f"Only the unit of province {tip['province']} reads this tipster's contact details.",
            f"只有举报所在省（{tip['province']}）的单位可以查看举报人的联系方式。",
        )  # fmt: skip
    await repository.record_contact_read(conn, tip_id, principal.sub, deps.clock.now())
    log.info("contact of tip %s read by %s", tip_id, principal.sub)
    if tip["contact_encrypted"] is None:
        return {"tip_id": str(tip_id), "named": False, "name": None, "phone": None, "email": None}
    contact = TipContact.model_validate_json(deps.cipher.decrypt(tip["contact_encrypted"]))
    return {"tip_id": str(tip_id), "named": True, **contact.model_dump()}


async def resolve_tip(
    conn: Connection, deps: Deps, tip_id: UUID, outcome: TipOutcome, *, principal: Principal
) -> dict[str, Any]:
    """The tip's province reports what it found; a later report corrects an earlier one."""
    tip = await _tip(conn, tip_id, for_update=True)
    forbid_other_unit(principal, tip["province"], "province")
    domain.check_outcome(outcome)
    now = deps.clock.now()
    await repository.resolve_tip(conn, tip_id, outcome, resolved_by=principal.sub, at=now)
    await _announce(conn, deps, TipResolved(
        tip_id=tip_id, province=tip["province"], industry=tip["industry"], status=outcome.status,
        rectified=outcome.rectified, reward_paid=outcome.reward_paid, resolved_at=now,
    ), subject=tip["province"])  # fmt: skip
    return {"id": str(tip_id), "tip_id": str(tip_id), "status": outcome.status}


async def import_units(
    conn: Connection, campaign: Campaign, units: list[Unit], *, source: str
) -> dict[str, Any]:
    """Adds the units of a CSV to the registry, or updates their names and kinds."""
    await repository.lock(conn, f"units:{campaign.id}")
    changed = await repository.upsert_units(conn, campaign.id, units, source=source, replace=True)
    return {"units": len(units), "changed": changed, "status": "imported"}


async def seed_units(conn: Connection, campaign: Campaign) -> int:
    """The campaign file's registry, without overwriting what an import has changed since."""
    await repository.lock(conn, f"units:{campaign.id}")
    return await repository.upsert_units(
        conn, campaign.id, campaign.units, source="campaign", replace=False
    )


async def check_unit(conn: Connection, deps: Deps, principal: Principal, unit: str) -> None:
    forbid_other_unit(principal, unit)
    domain.check_registered(await deps.units.unit(conn, deps.campaign.id, unit), unit)


async def _tip(conn: Connection, tip_id: UUID, *, for_update: bool = False) -> Any:
    tip = await repository.tip(conn, tip_id, for_update=for_update)
    if tip is None:
        raise Problem(404, "Unknown tip", f"No tip has the id {tip_id}.", "没有此编号的举报。")
    return tip


async def _announce(
    conn: Connection, deps: Deps, payload: Payload, *, subject: str, state: Statement | None = None
) -> None:
    event = new_event(payload, source=deps.source, time=deps.clock.now(),
                      campaign=deps.campaign.id, subject=subject)  # fmt: skip
    await deps.outbox.add(conn, event, state=state)
