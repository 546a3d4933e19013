"""reports' HTTP interface: the national summary in every format, and its publications."""

import asyncio
from typing import Annotated, Any, Literal
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import JSONResponse, Response

from smonth_reports import repository
from smonth_reports.formats import MEDIA_TYPES, Format, render
from smonth_reports.publishing import Publisher
from smonth_shared.auth import Principal, requires
from smonth_shared.campaign import Campaign, CampaignFileError, load_campaign
from smonth_shared.openapi import problem_responses
from smonth_shared.problems import Problem
from smonth_shared.runtime import Runtime

TableName = Literal["statistics", "liaisons", "summaries", "exposure", "tips", "reminders"]
# What a summary or an artifact is answered as: a document for each format.
RENDERED: dict[int | str, dict[str, Any]] = {200: {"content": {
    media.split(";")[0]: {"schema": {"type": "object"} if name == "json"
                          else {"type": "string", "format": "binary"}}
    for name, media in MEDIA_TYPES.items()}}}  # fmt: skip
CampaignId = Annotated[str | None, Query(pattern=r"^\d{4}$", description="Default: the service's")]


def router(runtime: Runtime, publisher: Publisher, served: Campaign) -> APIRouter:
    api = APIRouter(prefix="/v1", tags=["national summary"])
    staff = requires(runtime.verifier, "staff", "admin")
    readers = requires(runtime.verifier, "staff", "admin", "system")

    def campaign_of(campaign_id: str | None) -> Campaign:
        if campaign_id in (None, served.id):
            return served
        try:
            return load_campaign(campaign_id)  # type: ignore[arg-type]
        except CampaignFileError:
            raise Problem(
                404, "No such campaign", f"There is no campaign {campaign_id}.",
                f"没有{campaign_id}年度的活动。",
            ) from None  # fmt: skip

    @api.get(
        "/national-summary",
        summary="The national summary of a campaign, now",
        responses={**RENDERED, **problem_responses(404)},
        response_description="json (CONTRACT.md), xlsx (the workbook), csv (one table: `table`), "
        "html (a self-contained page) or pdf (the communique)",
    )
    async def national_summary(
        _: Annotated[Principal, Depends(staff)],
        campaign: CampaignId = None,
        format: Format = "json",
        table: Annotated[TableName, Query(description="The table of a CSV")] = "statistics",
        detail: Annotated[bool, Query(description="JSON: every table as well")] = False,
    ) -> Response:
        report = await publisher.report(campaign_of(campaign))
        if format == "json" and not detail:  # a tenth of a millisecond: not worth a thread
            rendered = render(report, format)
        else:
            rendered = await asyncio.to_thread(render, report, format, table=table, detail=detail)
        disposition = "inline" if format in ("json", "html") else "attachment"
        return Response(
            rendered.content, media_type=rendered.media_type,
            headers={"Content-Disposition": f"{disposition}; filename*=UTF-8''"
                                            f"{quote(rendered.filename)}",
                     "Cache-Control": "no-store"},
        )  # fmt: skip

    @api.post(
        "/national-summary/publications", status_code=202, tags=["publications"],
        responses=problem_responses(404),
        summary="Publish the summary now: store its artifacts, announce national-summary.published",
    )  # fmt: skip
    async def publish(
        _: Annotated[Principal, Depends(staff)], campaign: CampaignId = None
    ) -> JSONResponse:
        published = await publisher.publish(campaign_of(campaign), trigger="on_demand")
        return JSONResponse(published, status_code=202)

    @api.get(
        "/publications",
        tags=["publications"],
        summary="The summaries published so far",
        responses=problem_responses(404),
    )
    async def publications(
        _: Annotated[Principal, Depends(readers)], campaign: CampaignId = None
    ) -> list[dict[str, Any]]:
        found = campaign_of(campaign)
        async with runtime.pool.acquire() as conn:
            rows = await repository.publications(conn, found.id)
        return [
            {"id": str(row["publication_id"]), "trigger": row["trigger"],
             "moment": row["moment"].isoformat() if row["moment"] else None,
             "as_of": row["as_of"].astimezone(found.tz).isoformat(),
             "artifacts": [publisher.url(row["publication_id"], name) for name in row["artifacts"]]}
            for row in rows
        ]  # fmt: skip

    @api.get(
        "/publications/{publication_id}/{name}", tags=["publications"],
        responses={**RENDERED, **problem_responses(404)},
        summary="An artifact of a published summary, exactly the bytes its checksum names",
    )  # fmt: skip
    async def artifact(
        _: Annotated[Principal, Depends(readers)],
        publication_id: UUID,
        name: Annotated[
            str,
            Path(
                max_length=80,
                pattern=r"^[a-z-]+\.(json|xlsx|csv|html|pdf)$",
                examples=["national-summary.pdf"],
            ),
        ],
    ) -> Response:
        async with runtime.pool.acquire() as conn:
            found = await repository.artifact(conn, publication_id, name)
        if found is None:
            raise Problem(404, "No such artifact", f"No artifact {name} in {publication_id}.",
                          "未找到该文件。")  # fmt: skip
        return Response(
            found["content"], media_type=found["media_type"],
            headers={"ETag": f'"{found["sha256"]}"', "Cache-Control": "private, immutable",
                     "Content-Disposition": f"attachment; filename={name}"},
        )  # fmt: skip

    return api
