"""/v1/cases: the typical cases a province exposed in its media."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from smonth_intake import handlers
from smonth_intake.models import CaseSubmission
from smonth_intake.routes import Accept, IdempotencyKey, resource_router
from smonth_shared.auth import Principal, requires
from smonth_shared.openapi import problem_responses


def router(accept: Accept, deps: Callable[[], handlers.Deps]) -> APIRouter:
    api = resource_router()
    for_a_unit = requires(accept.runtime.verifier, "unit", "system", "admin")

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

    return api
