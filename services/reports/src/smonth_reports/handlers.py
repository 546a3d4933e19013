"""One effect per event type: how each event changes reports' read model."""

from smonth_reports import repository
from smonth_shared.consumer import Effect
from smonth_shared.db import Connection
from smonth_shared.events import (
    CaseRejected,
    CaseReported,
    Envelope,
    LiaisonDesignated,
    MaterialSubmitted,
    MonthAssessed,
    ProgressReported,
    ReminderOutcome,
    SummarySubmitted,
    TipReceived,
    TipResolved,
)


async def on_progress_reported(conn: Connection, event: Envelope) -> None:
    snapshot = ProgressReported.model_validate(event.data)
    await repository.keep_newest_progress(conn, event.campaign, snapshot, event.time)


async def on_summary_submitted(conn: Connection, event: Envelope) -> None:
    report = SummarySubmitted.model_validate(event.data)
    await repository.receive_summary(conn, event.campaign, report)


async def on_liaison_designated(conn: Connection, event: Envelope) -> None:
    liaison = LiaisonDesignated.model_validate(event.data)
    await repository.designate_liaison(conn, event.campaign, liaison)


async def on_material_submitted(conn: Connection, event: Envelope) -> None:
    material = MaterialSubmitted.model_validate(event.data)
    await repository.add_material(conn, event.campaign, material, event.time)


async def on_case_reported(conn: Connection, event: Envelope) -> None:
    case = CaseReported.model_validate(event.data)
    await repository.add_case(conn, event.campaign, case, event.time)


async def on_case_rejected(conn: Connection, event: Envelope) -> None:
    await repository.reject_case(conn, CaseRejected.model_validate(event.data))


async def on_tip_received(conn: Connection, event: Envelope) -> None:
    await repository.add_tip(conn, event.campaign, TipReceived.model_validate(event.data))


async def on_tip_resolved(conn: Connection, event: Envelope) -> None:
    await repository.resolve_tip(conn, TipResolved.model_validate(event.data))


async def on_month_assessed(conn: Connection, event: Envelope) -> None:
    assessment = MonthAssessed.model_validate(event.data)
    await repository.record_assessment(conn, event.campaign, assessment, event.time)


async def on_reminder(conn: Connection, event: Envelope) -> None:
    outcome = "sent" if event.type == "reminder.sent" else "failed"
    reminder = ReminderOutcome.model_validate(event.data)
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
