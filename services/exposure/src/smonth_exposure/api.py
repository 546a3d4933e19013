"""exposure's HTTP interface: the cases and their rejection, and the compliance matrix."""

from dataclasses import asdict
from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

import asyncpg
from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from smonth_exposure import domain, handlers, repository
from smonth_shared import idempotency
from smonth_shared.auth import Principal, requires
from smonth_shared.campaign import Campaign
from smonth_shared.events import Month, ProvinceCode
from smonth_shared.openapi import problem_responses
from smonth_shared.problems import Problem
from smonth_shared.runtime import Runtime
from smonth_shared.storable import StorableBody

MAX_OFFSET = 2**31 - 1  # PostgreSQL takes a bigint; no campaign comes near an int4
IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]


class RejectionRequest(StorableBody):
    reason: str = Field(
        min_length=1, max_length=2000, description="Why the case does not count, for the province."
    )


class RejectionView(BaseModel):
    reason: str
    rejected_by: str
    rejected_at: datetime


class CaseView(BaseModel):
    id: UUID
    campaign: str
    province: str
    month: Month = Field(description="The month the case counts in: that of published_on.")
    title: str
    industry: str
    enterprise: str
    summary: str
    media_outlet: str
    published_on: date
    url: str
    reported_at: datetime
    counted: bool = Field(description="Whether the case counts toward its province-month now.")
    not_counted_reason: str | None = Field(description="Why not, in English.")
    not_counted_reason_zh: str | None = Field(description="Why not, in Chinese.")
    rejected: bool
    rejection: RejectionView | None


class CaseList(BaseModel):
    campaign: str
    cases: list[CaseView]


class MonthCell(BaseModel):
    cases_counted: int
    quota: int
    status: Literal["met", "unmet", "missed"] = Field(
        description="met: quota reached; unmet: month still open and short; missed: closed short."
    )
    closed: bool = Field(description="Whether the month is over by the clock.")


class ProvinceRow(BaseModel):
    province: str
    name: str
    months: dict[str, MonthCell] = Field(description="By month, YYYY-MM.")


class ComplianceMatrix(BaseModel):
    campaign: str
    as_of: datetime
    quota: int = Field(description="Cases each provincial unit exposes every month.")
    months: list[str]
    provinces: list[ProvinceRow]


def router(runtime: Runtime, deps: handlers.Deps) -> APIRouter:
    campaign = deps.campaign
    api = APIRouter(prefix="/v1", tags=["exposure"])
    staff = requires(runtime.verifier, "staff", "admin")
    readers = requires(runtime.verifier, "staff", "admin", "unit")

    @api.get("/cases", summary="Cases reported, counted or not, with the reasons")
    async def list_cases(
        principal: Annotated[Principal, Depends(readers)],
        province: Annotated[ProvinceCode | None, Query()] = None,
        month: Annotated[Month | None, Query()] = None,
        campaign_id: Annotated[str, Query(alias="campaign", pattern=r"^\d{4}$")] = campaign.id,
        limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    ) -> CaseList:
        if principal.role == "unit":
            province = _own_province(principal, province)
        rows = await repository.cases(runtime.pool, campaign_id, province=province, month=month,
                                      limit=limit, offset=offset)  # fmt: skip
        return CaseList(campaign=campaign_id, cases=[_case_view(row, campaign) for row in rows])

    @api.post(
        "/cases/{case_id}/rejection", status_code=202, response_model=CaseView,
        responses=problem_responses(404, 409),
        summary="Reject a case: it no longer counts toward its province's quota",
    )  # fmt: skip
    async def reject(
        case_id: UUID,
        body: RejectionRequest,
        request: Request,
        principal: Annotated[Principal, Depends(staff)],
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        fingerprint = idempotency.request_hash(request.url.path, body.model_dump(mode="json"))
        async with runtime.pool.acquire() as conn, conn.transaction():
            if idempotency_key:
                earlier = await idempotency.replay(
                    conn, principal.sub, idempotency_key, fingerprint
                )
                if earlier is not None:
                    return JSONResponse(earlier.body, status_code=earlier.status)
            try:
                case = await handlers.reject_case(
                    conn, deps, case_id, reason=body.reason, rejected_by=principal.sub
                )
            except domain.CaseNotFound:
                raise _not_found(case_id) from None
            except domain.CaseAlreadyRejected as refusal:
                raise _already_rejected(refusal, campaign) from None
            answer = _case_view(case, campaign).model_dump(mode="json")
            if idempotency_key:
                await idempotency.remember(conn, principal.sub, idempotency_key, fingerprint,
                                           idempotency.Replay(202, answer))  # fmt: skip
        return JSONResponse(answer, status_code=202)

    @api.get(
        "/compliance",
        summary="Each province's cases counted against the monthly quota",
        responses=problem_responses(404),
    )
    async def compliance(
        principal: Annotated[Principal, Depends(readers)],
        campaign_id: Annotated[str, Query(alias="campaign", pattern=r"^\d{4}$")] = campaign.id,
    ) -> ComplianceMatrix:
        if campaign_id != campaign.id:
            raise Problem(
                404, "Campaign not tracked",
                f"This service tracks campaign {campaign.id}, not {campaign_id}.",
                f"本系统统计的是{campaign.id}年活动，没有{campaign_id}年活动的数据。",
            )  # fmt: skip
        units = [
            u for u in campaign.provinces if principal.role != "unit" or u.code == principal.unit
        ]
        quota = campaign.exposure.min_cases_per_province_per_month
        cells = domain.matrix([u.code for u in units], campaign.exposure_months, quota,
                              await repository.tallies(runtime.pool, campaign.id))  # fmt: skip
        rows = {u.code: ProvinceRow(province=u.code, name=u.name, months={}) for u in units}
        for cell in cells:
            rows[cell.province].months[cell.month] = MonthCell(
                cases_counted=cell.cases_counted, quota=cell.quota, status=cell.status,
                closed=cell.closed,
            )  # fmt: skip
        return ComplianceMatrix(
            campaign=campaign.id, as_of=runtime.clock.now(), quota=quota,
            months=list(campaign.exposure_months), provinces=list(rows.values()),
        )  # fmt: skip

    return api


def _own_province(principal: Principal, asked: str | None) -> str:
    own = principal.unit or ""
    if asked is not None and asked != own:
        raise Problem(
            403, "Forbidden",
            f"A unit token sees only its own province ({own}), not {asked}.",
            f"本单位（{own}）只能查看本省的案例，不能查看{asked}的案例。",
        )  # fmt: skip
    return own


def _case_view(row: asyncpg.Record, campaign: Campaign) -> CaseView:
    verdict = domain.Verdict(
        row["counted"], row["not_counted_reason"], row["not_counted_reason_zh"]
    )
    rejection = repository.rejection_of(row)
    current = domain.standing(verdict, rejection, campaign.tz)
    return CaseView(
        id=row["case_id"], campaign=row["campaign"], province=row["province"], month=row["month"],
        title=row["title"], industry=row["industry"], enterprise=row["enterprise"],
        summary=row["summary"], media_outlet=row["media_outlet"],
        published_on=row["published_on"], url=row["url"], reported_at=row["reported_at"],
        counted=current.counted, not_counted_reason=current.reason,
        not_counted_reason_zh=current.reason_zh,
        rejected=rejection is not None,
        rejection=RejectionView(**asdict(rejection)) if rejection else None,
    )  # fmt: skip


def _not_found(case_id: UUID) -> Problem:
    return Problem(
        404, "Case not found",
        f"No case {case_id} has been reported to the exposure service.",
        f"未找到编号为 {case_id} 的典型案例。",
    )  # fmt: skip


def _already_rejected(refusal: domain.CaseAlreadyRejected, campaign: Campaign) -> Problem:
    earlier = refusal.rejection
    day = earlier.rejected_at.astimezone(campaign.tz).date()
    return Problem(
        409, "Case already rejected",
        f"Case {refusal.case_id} was already rejected by {earlier.rejected_by} on {day}:"
        f" {earlier.reason}. A case is rejected once.",
        f"该案例已于 {day} 被退回（{earlier.rejected_by}）：{earlier.reason}。不能重复退回。",
        extra={"rejection": {"reason": earlier.reason, "rejected_by": earlier.rejected_by,
                             "rejected_at": earlier.rejected_at.isoformat()}},
    )  # fmt: skip
