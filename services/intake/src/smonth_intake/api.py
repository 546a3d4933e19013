"""intake's HTTP interface: thin adapters that authenticate, parse, and call one handler each."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse

from smonth_intake import domain, forms, handlers
from smonth_intake.blobs import BlobStore
from smonth_intake.config import IntakeSettings
from smonth_intake.models import (
    CaseSubmission,
    LiaisonDesignation,
    MaterialSubmission,
    ProgressReport,
    SummaryReport,
    TipLookup,
    TipOutcome,
    TipSubmission,
)
from smonth_intake.tipline import TIP_RATE_LIMIT, RateLimit, Tipline
from smonth_shared import idempotency
from smonth_shared.auth import Principal, forbid_other_unit, requires
from smonth_shared.db import Connection
from smonth_shared.events import UnitCode
from smonth_shared.openapi import problem_responses
from smonth_shared.runtime import Runtime

IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200,
           description="The same key and body give the same answer; another body gives 409."),
]  # fmt: skip
UnitPath = Annotated[UnitCode, Path()]
Write = Callable[[Connection], Awaitable[dict[str, Any]]]


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _body(*media: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI request body of an endpoint that reads its body itself."""
    return {"requestBody": {"required": True,
                            "content": {name: {"schema": schema} for name, schema in media}}}  # fmt: skip


def _with_file(schema: dict[str, Any]) -> dict[str, Any]:
    properties = {**schema["properties"], "file": {"type": "string", "format": "binary"}}
    return {**schema, "properties": properties}


def router(
    runtime: Runtime, settings: IntakeSettings, deps: Callable[[], handlers.Deps],
    store: BlobStore, tipline: Tipline,
) -> APIRouter:  # fmt: skip
    api = APIRouter(prefix="/v1", max_body_size=forms.JSON_LIMIT)
    verifier = runtime.verifier
    for_a_unit = requires(verifier, "unit", "system", "admin")
    unit_or_admin = requires(verifier, "unit", "admin")
    unit_only = requires(verifier, "unit")
    admin_only = requires(verifier, "admin")

    async def accept(
        request: Request, caller: str, key: str | None, body: Callable[[], dict[str, Any]],
        write: Write, *, hide: tuple[str, ...] = (), limit: RateLimit | None = None,
    ) -> JSONResponse:  # fmt: skip
        """One transaction: the effect, its event, and the answer kept for a retried key.

        A rate limit is counted just before, outside the transaction, so that a refused or
        invalid request still counts."""
        if limit is not None:
            await tipline.limit_rate(client_address(request), limit)
        async with runtime.pool.acquire() as conn, conn.transaction():
            fingerprint = idempotency.request_hash(request.url.path, body()) if key else ""
            if key:
                earlier = await idempotency.replay(conn, caller, key, fingerprint)
                if earlier is not None:
                    return JSONResponse(earlier.body, status_code=earlier.status)
            answer = await write(conn)
            if key:
                kept = {name: value for name, value in answer.items() if name not in hide}
                await idempotency.remember(
                    conn, caller, key, fingerprint, idempotency.Replay(202, kept)
                )
        return JSONResponse(answer, status_code=202)

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

    @api.put("/liaisons/{unit}", status_code=202, tags=["units"], responses=problem_responses(409, 413),
             summary="Designate the unit's liaison (attachment 2), replacing the one before")  # fmt: skip
    async def designate_liaison(
        request: Request, unit: UnitPath, liaison: LiaisonDesignation,
        principal: Annotated[Principal, Depends(for_a_unit)], idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:  # fmt: skip
        return await accept(
            request, principal.sub, idempotency_key, lambda: liaison.model_dump(mode="json"),
            lambda conn: handlers.designate_liaison(
                conn, deps(), unit, liaison, principal=principal),
        )  # fmt: skip

    @api.post("/summary-reports", status_code=202, tags=["units"],
              responses=problem_responses(400, 409, 413, 415),
              max_body_size=forms.upload_limit(settings.max_summary_bytes),
              summary="Submit the summary report, as JSON or as a form with a PDF or DOCX file",
              openapi_extra=_body(("application/json", SummaryReport.model_json_schema()),
                                  ("multipart/form-data",
                                   _with_file(SummaryReport.model_json_schema()))))  # fmt: skip
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

    @api.post("/materials", status_code=202, tags=["units"],
              responses=problem_responses(400, 409, 413, 415),
              max_body_size=forms.upload_limit(settings.max_upload_bytes),
              summary="Send a good practice, a video or a picture (multipart form)",
              openapi_extra=_body(("multipart/form-data",
                                   _with_file(MaterialSubmission.model_json_schema()))))  # fmt: skip
    async def submit_material(
        request: Request, principal: Annotated[Principal, Depends(unit_or_admin)],
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:  # fmt: skip
        limit = settings.max_upload_bytes
        async with forms.submission(request, MaterialSubmission, file_limit=limit) as (
            material, upload,
        ):  # fmt: skip
            # Checked before the file is kept, so that nobody fills the store for another unit.
            forbid_other_unit(principal, material.unit)
            file = upload and await forms.keep_file(store, upload, material.kind, limit)
        body = {**material.model_dump(mode="json"), "file": file and file.sha256}
        return await accept(
            request, principal.sub, idempotency_key, lambda: body,
            lambda conn: handlers.submit_material(
                conn, deps(), material, file=file, principal=principal),
        )  # fmt: skip

    @api.post(
        "/cases",
        status_code=202,
        tags=["cases"],
        summary="Report a typical case exposed",
        responses=problem_responses(409, 413),
    )
    async def report_case(
        request: Request, case: CaseSubmission,
        principal: Annotated[Principal, Depends(for_a_unit)], idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:  # fmt: skip
        return await accept(
            request, principal.sub, idempotency_key, lambda: case.model_dump(mode="json"),
            lambda conn: handlers.report_case(conn, deps(), case, principal=principal),
        )  # fmt: skip

    @api.post("/tips", status_code=202, tags=["tips"], responses=problem_responses(409, 413, 429),
              summary="Report a hazard or a violation (public, anonymous)")  # fmt: skip
    async def submit_tip(
        request: Request, tip: TipSubmission, idempotency_key: IdempotencyKey = None
    ) -> JSONResponse:
        if idempotency_key:
            # The receipt code is shown once and stored nowhere in clear, not even for a replay.
            return await accept(
                request, f"ip:{client_address(request)}", idempotency_key,
                lambda: tip.model_dump(mode="json"),
                lambda conn: handlers.submit_tip(conn, deps(), tip),
                hide=("receipt_code",), limit=TIP_RATE_LIMIT,
            )  # fmt: skip
        return JSONResponse(await tipline.submit(client_address(request), tip), status_code=202)

    @api.post("/tips/lookup", tags=["tips"], responses=problem_responses(404, 413, 429),
              summary="Follow up a tip with its receipt code: status and public reply")  # fmt: skip
    async def look_up_tip(
        request: Request, lookup: TipLookup, idempotency_key: IdempotencyKey = None
    ) -> dict[str, Any]:
        # A read: the same key always gets the same answer, so the key needs no record.
        return await tipline.look_up(client_address(request), lookup)

    @api.get("/tips/{tip_id}/contact", tags=["tips"], responses=problem_responses(404),
             summary="The tipster's contact details, for the unit of the tip's province only")  # fmt: skip
    async def read_tip_contact(
        tip_id: UUID, principal: Annotated[Principal, Depends(unit_only)]
    ) -> JSONResponse:
        async with runtime.pool.acquire() as conn, conn.transaction():
            contact = await handlers.read_tip_contact(conn, deps(), tip_id, principal=principal)
        return JSONResponse(contact, headers={"Cache-Control": "no-store"})

    @api.post("/tips/{tip_id}/outcome", status_code=202, tags=["tips"],
              responses=problem_responses(404, 409, 413),
              summary="Report what the tip's province found (tip.resolved)")  # fmt: skip
    async def resolve_tip(
        request: Request, tip_id: UUID, outcome: TipOutcome,
        principal: Annotated[Principal, Depends(for_a_unit)], idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:  # fmt: skip
        return await accept(
            request, principal.sub, idempotency_key, lambda: outcome.model_dump(mode="json"),
            lambda conn: handlers.resolve_tip(conn, deps(), tip_id, outcome, principal=principal),
        )  # fmt: skip

    @api.post("/units/import", status_code=202, tags=["registry"],
              responses=problem_responses(400, 409, 413, 415),
              summary="Import addressed units from a CSV (code,name,kind,province); admin only",
              openapi_extra=_body(("text/csv", {"type": "string"})))  # fmt: skip
    async def import_units(
        request: Request, principal: Annotated[Principal, Depends(admin_only)],
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:  # fmt: skip
        text = await forms.csv_body(request, forms.JSON_LIMIT)
        units = domain.parse_registry(text)
        answer = await accept(
            request, principal.sub, idempotency_key, lambda: {"csv": text},
            lambda conn: handlers.import_units(
                conn, deps().campaign, units, source=principal.sub),
        )  # fmt: skip
        deps().units.forget()  # a changed kind counts here at once, elsewhere within a minute
        return answer

    return api
