"""reports' HTTP interface: the national summary for the office's staff."""

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query

from smonth_reports import domain, repository
from smonth_shared.auth import Principal, requires
from smonth_shared.runtime import Runtime


def router(runtime: Runtime, *, months: list[str]) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["national summary"])
    staff = requires(runtime.settings.safety_month_jwt_secret, "staff", "admin")

    @api.get("/national-summary", summary="The national summary of a campaign")
    async def national_summary(
        _: Annotated[Principal, Depends(staff)],
        campaign: Annotated[str, Query(pattern=r"^\d{4}$")] = runtime.settings.campaign,
        format: Literal["json"] = "json",
    ) -> dict[str, Any]:
        tips = domain.tips_section(await repository.tip_counts(runtime.pool, campaign))
        exposure = domain.exposure_section(
            await repository.compliance_rows(runtime.pool, campaign), months
        )
        return domain.national_summary(campaign, runtime.clock.now(), tips=tips, exposure=exposure)

    return api
