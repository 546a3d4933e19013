"""One effect per event type: how each event changes reports' read model."""

from smonth_reports import repository
from smonth_shared.consumer import Effect
from smonth_shared.db import Connection
from smonth_shared.events import Envelope, MonthAssessed, TipReceived, TipResolved


async def on_tip_received(conn: Connection, event: Envelope) -> None:
    await repository.add_tip(conn, event.campaign, TipReceived.model_validate(event.data))


async def on_tip_resolved(conn: Connection, event: Envelope) -> None:
    await repository.resolve_tip(conn, TipResolved.model_validate(event.data))


async def on_month_assessed(conn: Connection, event: Envelope) -> None:
    assessment = MonthAssessed.model_validate(event.data)
    await repository.record_assessment(conn, event.campaign, assessment, event.time)


EFFECTS: dict[str, Effect] = {
    "tip.received": on_tip_received,
    "tip.resolved": on_tip_resolved,
    "exposure.month-assessed": on_month_assessed,
}
