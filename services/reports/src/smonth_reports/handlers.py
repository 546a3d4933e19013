"""One effect per event type: how each event changes reports' read model; and the same effects
for a batch of events of one type, one statement each, which the consumer uses when it can."""

from collections.abc import Sequence
from typing import TypeVar

from smonth_reports import repository
from smonth_shared.consumer import BatchEffect, Effect, one_by_one
from smonth_shared.db import Connection
from smonth_shared.events import (
    CaseRejected,
    CaseReported,
    LiaisonDesignated,
    MaterialSubmitted,
    MonthAssessed,
    Payload,
    ProgressReported,
    ReadEvent,
    ReminderOutcome,
    SummarySubmitted,
    TipReceived,
    TipResolved,
)

P = TypeVar("P", bound=Payload)


def _payload(event: ReadEvent, kind: type[P]) -> P:
    """The event's payload, validated with its envelope already."""
    payload = event.payload()
    assert isinstance(payload, kind)  # the envelope's type decides the payload's class
    return payload


async def on_progress_reported(conn: Connection, event: ReadEvent) -> None:
    snapshot = _payload(event, ProgressReported)
    await repository.keep_newest_progress(conn, event.campaign, snapshot, event.time)


async def on_summary_submitted(conn: Connection, event: ReadEvent) -> None:
    report = _payload(event, SummarySubmitted)
    await repository.receive_summary(conn, event.campaign, report)


async def on_liaison_designated(conn: Connection, event: ReadEvent) -> None:
    liaison = _payload(event, LiaisonDesignated)
    await repository.designate_liaison(conn, event.campaign, liaison)


async def on_material_submitted(conn: Connection, event: ReadEvent) -> None:
    material = _payload(event, MaterialSubmitted)
    await repository.add_material(conn, event.campaign, material, event.time)


async def on_case_reported(conn: Connection, event: ReadEvent) -> None:
    case = _payload(event, CaseReported)
    await repository.add_case(conn, event.campaign, case, event.time)


async def on_case_rejected(conn: Connection, event: ReadEvent) -> None:
    await repository.reject_case(conn, _payload(event, CaseRejected))


async def on_tip_received(conn: Connection, event: ReadEvent) -> None:
    await repository.add_tip(conn, event.campaign, _payload(event, TipReceived))


async def on_tip_resolved(conn: Connection, event: ReadEvent) -> None:
    await repository.resolve_tip(conn, _payload(event, TipResolved))


async def on_month_assessed(conn: Connection, event: ReadEvent) -> None:
    assessment = _payload(event, MonthAssessed)
    await repository.record_assessment(conn, event.campaign, assessment, event.time)


async def on_reminder(conn: Connection, event: ReadEvent) -> None:
    outcome = "sent" if event.type == "reminder.sent" else "failed"
    reminder = _payload(event, ReminderOutcome)
    await repository.record_reminder(conn, event.id, event.campaign, outcome, reminder, event.time)


EFFECTS: dict[str, Effect] = {
    "progress.reported": on_progress_reported,
    "summary.submitted": on_summary_submitted,
    "liaison.designated": on_liaison_designated,
    "material.submitted": on_material_submitted,
    "case.reported": on_case_reported,
    "case.rejected": on_case_rejected,
    "tip.received": on_tip_received,
    "tip.resolved": on_tip_resolved,
    "exposure.month-assessed": on_month_assessed,
    "reminder.sent": on_reminder,
    "reminder.failed": on_reminder,
}


async def on_progress_batch(conn: Connection, events: Sequence[ReadEvent]) -> None:
    await repository.keep_newest_progress_of(conn, [
        (e.campaign, _payload(e, ProgressReported), e.time) for e in events])  # fmt: skip


async def on_liaison_batch(conn: Connection, events: Sequence[ReadEvent]) -> None:
    await repository.designate_liaisons(
        conn, [(e.campaign, _payload(e, LiaisonDesignated)) for e in events]
    )


async def on_material_batch(conn: Connection, events: Sequence[ReadEvent]) -> None:
    await repository.add_materials(conn, [
        (e.campaign, _payload(e, MaterialSubmitted), e.time) for e in events])  # fmt: skip


async def on_case_batch(conn: Connection, events: Sequence[ReadEvent]) -> None:
    await repository.add_cases(
        conn, [(e.campaign, _payload(e, CaseReported), e.time) for e in events]
    )


async def on_tips_received(conn: Connection, events: Sequence[ReadEvent]) -> None:
    await repository.add_tips(conn, [(e.campaign, _payload(e, TipReceived)) for e in events])


async def on_tips_resolved(conn: Connection, events: Sequence[ReadEvent]) -> None:
    await repository.resolve_tips(conn, [_payload(e, TipResolved) for e in events])


async def on_assessment_batch(conn: Connection, events: Sequence[ReadEvent]) -> None:
    await repository.record_assessments(conn, [
        (e.campaign, _payload(e, MonthAssessed), e.time) for e in events])  # fmt: skip


async def on_reminder_batch(conn: Connection, events: Sequence[ReadEvent]) -> None:
    await repository.record_reminders(conn, [
        (e.id, e.campaign, "sent" if e.type == "reminder.sent" else "failed",
         _payload(e, ReminderOutcome), e.time) for e in events])  # fmt: skip


# Applied type by type in this order: what creates a row comes before what changes it.
BATCH_EFFECTS: dict[str, BatchEffect] = {
    "progress.reported": on_progress_batch,
    # Counts each receipt: a batch applies them in turn.
    "summary.submitted": one_by_one(on_summary_submitted),
    "liaison.designated": on_liaison_batch,
    "material.submitted": on_material_batch,
    "case.reported": on_case_batch,
    "case.rejected": one_by_one(on_case_rejected),
    "tip.received": on_tips_received,
    "tip.resolved": on_tips_resolved,
    "exposure.month-assessed": on_assessment_batch,
    "reminder.sent": on_reminder_batch,
    "reminder.failed": on_reminder_batch,
}
