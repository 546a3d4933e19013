"""/v1/progress: attachment 1, the unit's cumulative statistics — as JSON or as the workbook
the unit downloads pre-filled and uploads filled in."""

import hashlib
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response

from smonth_intake import desk, forms, handlers, workbook
from smonth_intake.models import ProgressReport
from smonth_intake.routes import Accept, IdempotencyKey, UnitPath, request_body, resource_router
from smonth_shared.auth import Principal, requires
from smonth_shared.openapi import problem_responses


def router(accept: Accept, deps: Callable[[], handlers.Deps]) -> APIRouter:
    api = resource_router()
    runtime = accept.runtime
    for_a_unit = requires(runtime.verifier, "unit", "system", "admin")
    readers = requires(runtime.verifier, "unit", "staff", "system", "admin")

    @api.post("/progress", status_code=202, tags=["units"], responses=problem_responses(409, 413),
              summary="Report progress statistics (attachment 1): a cumulative snapshot")  # fmt: skip
    async def report_progress(
        request: Request, report: ProgressReport,
        principal: Annotated[Principal, Depends(for_a_unit)], idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:  # fmt: skip
        return await accept(
            request, principal.sub, idempotency_key, lambda: report.model_dump(mode="json"),
            lambda conn: handlers.submit_progress(conn, deps(), report, principal=principal),
        )  # fmt: skip

    @api.post("/progress/workbook", status_code=202, tags=["units"],
              responses=problem_responses(400, 409, 413, 415),
              summary="Report progress statistics as the filled-in workbook (.xlsx); every "
              "refusal names its cell", openapi_extra=request_body(
                  (workbook.XLSX, {"type": "string", "format": "binary"})))  # fmt: skip
    async def report_progress_workbook(
        request: Request, principal: Annotated[Principal, Depends(for_a_unit)],
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:  # fmt: skip
        if forms.media_type(request) != workbook.XLSX:
            raise forms.unsupported_media(workbook.XLSX)
        content = await forms.bounded(request, forms.JSON_LIMIT).body()
        return await accept(
            request, principal.sub, idempotency_key, lambda: {"sha256": _digest(content)},
            lambda conn: desk.submit_workbook(conn, deps(), content, principal=principal),
        )  # fmt: skip

    @api.get("/progress/{unit}", tags=["units"], responses=problem_responses(404, 422),
             summary="The unit's latest progress snapshot: what the next may not fall below")  # fmt: skip
    async def latest_progress(
        unit: UnitPath, principal: Annotated[Principal, Depends(readers)]
    ) -> dict[str, Any]:
        async with runtime.pool.acquire() as conn:
            return await desk.latest_progress(conn, deps(), unit, principal=principal)

    @api.get("/progress/{unit}/workbook", tags=["units"], response_class=Response,
             responses={200: {"content": {workbook.XLSX: {"schema": {
                 "type": "string", "format": "binary"}}}}, **problem_responses(422)},
             summary="Attachment 1 as an .xlsx template, pre-filled with the unit's last figures")  # fmt: skip
    async def progress_workbook(
        unit: UnitPath, principal: Annotated[Principal, Depends(readers)]
    ) -> Response:
        async with runtime.pool.acquire() as conn:
            content = await desk.progress_template(conn, deps(), unit, principal=principal)
        name = quote(f"进展情况统计表-{unit}.xlsx")
        return Response(content, media_type=workbook.XLSX, headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{name}",
            "Cache-Control": "no-store"})  # fmt: skip

    return api


def _digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
