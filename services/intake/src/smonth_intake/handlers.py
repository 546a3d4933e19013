"""intake's use cases: validate against the campaign, store, and announce through the outbox.

Each runs inside the caller's transaction (HTTP request or inbound event), so the state and its
event commit together.
"""

from dataclasses import dataclass
from typing import Any
from uuid import uuid4

from cryptography.fernet import Fernet

from smonth_intake import domain, repository
from smonth_intake.models import CaseSubmission, TipSubmission
from smonth_shared.campaign import Campaign
from smonth_shared.clock import Clock
from smonth_shared.db import Connection
from smonth_shared.events import CaseReported, TipReceived, new_event
from smonth_shared.outbox import Outbox
from smonth_shared.problems import Problem


@dataclass(frozen=True)
class Deps:
    campaign: Campaign
    clock: Clock
    outbox: Outbox
    cipher: Fernet
    source: str = "intake"


async def submit_tip(conn: Connection, deps: Deps, tip: TipSubmission) -> dict[str, Any]:
    now = deps.clock.now()
    domain.check_tip(deps.campaign, tip, now.astimezone(deps.campaign.tz).date())
    tip_id, receipt_code = uuid4(), domain.new_receipt_code()
    contact = tip.contact.model_dump_json(exclude_none=True) if tip.contact else None
    await repository.insert_tip(
        conn, tip_id=tip_id, campaign=deps.campaign.id, tip=tip,
        contact_encrypted=deps.cipher.encrypt(contact.encode()) if contact else None,
        receipt_hash=domain.receipt_hash(receipt_code), received_at=now,
    )  # fmt: skip
    payload = TipReceived(
        tip_id=tip_id, province=tip.province, industry=tip.industry, category=tip.category,
        description=tip.description, city=tip.city, location=tip.location,
        enterprise=tip.enterprise, occurred_on=tip.occurred_on, received_at=now,
        named=tip.contact is not None and bool(tip.contact.model_dump(exclude_none=True)),
    )  # fmt: skip
    await deps.outbox.add(conn, _event(deps, payload, subject=tip.province))
    return {"id": str(tip_id), "tip_id": str(tip_id), "receipt_code": receipt_code,
            "status": "received"}  # fmt: skip


async def report_case(
    conn: Connection, deps: Deps, case: CaseSubmission, *, reported_by: str
) -> dict[str, Any]:
    now = deps.clock.now()
    domain.check_case(deps.campaign, case, now.astimezone(deps.campaign.tz).date())
    case_id = await repository.insert_case(
        conn, case_id=uuid4(), campaign=deps.campaign.id, case=case, reported_by=reported_by,
        received_at=now,
    )  # fmt: skip
    if case_id is None:
        existing = await repository.case_with_url(conn, case.province, str(case.url))
        raise Problem(
            409, "Case already reported",
            f"Province {case.province} already reported {case.url} as case {existing}.",
            f"该省已报送过此链接的典型案例（编号 {existing}），无需重复报送。",
            extra={"existing_id": str(existing)},
        )  # fmt: skip
    payload = CaseReported(case_id=case_id, **case.model_dump(mode="json"))
    await deps.outbox.add(conn, _event(deps, payload, subject=case.province))
    return {"id": str(case_id), "case_id": str(case_id), "status": "received"}


def _event(deps: Deps, payload: Any, *, subject: str) -> Any:
    return new_event(payload, source=deps.source, time=deps.clock.now(),
                     campaign=deps.campaign.id, subject=subject)  # fmt: skip
