"""/v1/summary-reports: the unit's summary report, sent as JSON or with its file, and read back
as it stands (with its file) by the unit itself or the office."""

from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse

from smonth_intake import desk, forms, handlers
from smonth_intake.blobs import BlobStore
from smonth_intake.config import IntakeSettings
from smonth_intake.models import SummaryReport
from smonth_intake.routes import (
    Accept,
    IdempotencyKey,
    UnitPath,
    request_body,
    resource_router,
    with_file,
)
from smonth_shared.auth import Principal, forbid_other_unit, requires
from smonth_shared.openapi import problem_responses


def router(
    accept: Accept, deps: Callable[[], handlers.Deps], settings: IntakeSettings, store: BlobStore
) -> APIRouter:
    api = resource_router()
    for_a_unit = requires(accept.runtime.verifier, "unit", "system", "admin")
    readers = requires(accept.runtime.verifier, "unit", "staff", "system", "admin")
    schema = SummaryReport.model_json_schema()

    @api.post("/summary-reports", status_code=202, tags=["units"],
              responses=problem_responses(400, 409, 413, 415),
              max_body_size=forms.upload_limit(settings.max_summary_bytes),
              summary="Submit the summary report, as JSON or as a form with a PDF or DOCX file",
              openapi_extra=request_body(("application/json", schema),
                                         ("multipart/form-data", with_file(schema))))  # fmt: skip
    async def submit_summary(
        request: Request, principal: Annotated[Principal, Depends(for_a_unit)],
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:  # fmt: skip
        limit = settings.max_summary_bytes
        async with forms.submission(request, SummaryReport, file_limit=limit, json_too=True) as (
            report,
            upload,
        ):
            forbid_other_unit(principal, report.unit)
            file = upload and await forms.keep_file(store, upload, "summary", limit)
        body = {**report.model_dump(mode="json"), "file": file and file.sha256}
        return await accept(
            request, principal.sub, idempotency_key, lambda: body,
            lambda conn: handlers.submit_summary(
                conn, deps(), report, file=file, principal=principal),
        )  # fmt: skip

    @api.get("/summary-reports/{unit}", tags=["units"], responses=problem_responses(404, 422),
             summary="The unit's summary report as it stands: when it was sent, on time or not, "
             "its file's name and size")  # fmt: skip
    async def summary_report(
        unit: UnitPath, principal: Annotated[Principal, Depends(readers)]
    ) -> dict[str, Any]:
        async with accept.runtime.pool.acquire() as conn:
            return await desk.summary_report(conn, deps(), unit, principal=principal)

    @api.get("/summary-reports/{unit}/file", tags=["units"], response_class=FileResponse,
             responses={200: {"content": {"application/octet-stream": {"schema": {
                 "type": "string", "format": "binary"}}}}, **problem_responses(404, 422)},
             summary="The file of the unit's summary report, as it was sent")  # fmt: skip
    async def summary_file(
        unit: UnitPath, principal: Annotated[Principal, Depends(readers)]
    ) -> FileResponse:
        async with accept.runtime.pool.acquire() as conn:
            file = await desk.summary_file(conn, deps(), unit, principal=principal)
        return FileResponse(store.path_of(file.location), media_type=file.content_type, headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(file.filename)}",
            "Cache-Control": "no-store"})  # fmt: skip

    return api
