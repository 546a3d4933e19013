"""notify's HTTP interface: every reminder, with its reason and what became of it."""

from collections.abc import Mapping
from datetime import date, datetime, tzinfo
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from smonth_notify import repository
from smonth_notify.domain import Channel, Reason, Status
from smonth_shared.auth import Principal, requires
from smonth_shared.events import UnitCode
from smonth_shared.problems import Problem
from smonth_shared.runtime import Runtime


class ReminderView(BaseModel):
    id: UUID
    unit: str
    reason: Reason = Field(description="What the unit still owed when it was planned.")
    occasion: str = Field(description="Which occasion of the reason: 'deadline-3', '2021-06:-1'…")
    channel: Channel
    month: str | None = Field(description="The exposure month an exposure_quota reminder is about.")
    due_on: date = Field(description="The working day it belongs to, office time.")
    send_at: datetime
    status: Status
    recipient: str | None = Field(description="The address or number it was sent to.")
    attempts: int
    note: str | None = Field(
        description="Why it failed or was cancelled; while it waits to be tried again, the last "
        "error."
    )
    retry_at: datetime | None = Field(
        description="When a reminder the server did not take is tried again (status planned)."
    )
    planned_at: datetime
    finished_at: datetime | None = Field(description="When it was sent, failed or cancelled.")

    @classmethod
    def of(cls, row: Mapping[str, Any], tz: tzinfo) -> "ReminderView":
        """Times in the office's time zone, as the reminders' days are."""
        times = {
            k: row[k].astimezone(tz)
            for k in ("send_at", "planned_at", "finished_at", "retry_at")
            if row[k]
        }
        return cls.model_validate({**row, **times})


class StandingView(BaseModel):
    unit: str
    has_liaison: bool = Field(description="A liaison has been named.")
    summary_submitted: bool = Field(description="The summary report has been received.")
    months_met: list[str] = Field(description="Exposure months whose quota is met (provinces).")


def router(runtime: Runtime, *, office_tz: tzinfo) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["reminders"])
    reader = requires(runtime.verifier, "staff", "admin", "unit")

    @api.get("/reminders", summary="Reminders planned, sent, failed or cancelled")
    async def list_reminders(
        principal: Annotated[Principal, Depends(reader)],
        unit: Annotated[UnitCode | None, Query()] = None,
        status: Status | None = None,
        campaign: Annotated[str, Query(pattern=r"^\d{4}$")] = runtime.settings.campaign,
    ) -> list[ReminderView]:
        if principal.role == "unit":
            if unit is not None and unit != principal.unit:
                raise Problem(
                    403, "Forbidden",
                    f"A unit token sees only its own unit's reminders ({principal.unit}), not {unit}.",
                    f"本单位（{principal.unit}）只能查看本单位的提醒，不能查看{unit}的提醒。",
                )  # fmt: skip
            unit = principal.unit
        rows = await repository.reminders(runtime.pool, campaign, unit=unit, status=status)
        return [ReminderView.of(dict(row), office_tz) for row in rows]

    @api.get("/standings/{unit}", summary="What notify knows a unit has done, so owes no more")
    async def standing(
        principal: Annotated[Principal, Depends(reader)],
        unit: Annotated[UnitCode, Path()],
        campaign: Annotated[str, Query(pattern=r"^\d{4}$")] = runtime.settings.campaign,
    ) -> StandingView:
        if not principal.may_act_for(unit):
            raise Problem(
                403, "Forbidden",
                f"A unit token sees only its own unit ({principal.unit}), not {unit}.",
                f"本单位（{principal.unit}）只能查看本单位的情况，不能查看{unit}的情况。",
            )  # fmt: skip
        known = (await repository.standings(runtime.pool, campaign)).get(unit)
        return StandingView(
            unit=unit,
            has_liaison=bool(known and known.has_liaison),
            summary_submitted=bool(known and known.summary_submitted),
            months_met=sorted(known.months_met) if known else [],
        )

    return api
