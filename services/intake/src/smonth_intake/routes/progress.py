"""/v1/progress: attachment 1, the unit's cumulative statistics."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from smonth_intake import handlers
from smonth_intake.models import ProgressReport
from smonth_intake.routes import Accept, IdempotencyKey
from smonth_shared.auth import Principal, requires
from smonth_shared.openapi import problem_responses


def router(accept: Accept, deps: Callable[[], handlers.Deps]) -> APIRouter:
    api = APIRouter()
    for_a_unit = requires(accept.runtime.verifier, "unit", "system", "admin")

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

    return api
