"""/v1/units/import: the registry of addressed units, from the office's CSV."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from smonth_intake import domain, forms, handlers
from smonth_intake.routes import Accept, IdempotencyKey, request_body, resource_router
from smonth_shared.auth import Principal, requires
from smonth_shared.openapi import problem_responses


def router(accept: Accept, deps: Callable[[], handlers.Deps]) -> APIRouter:
    api = resource_router()
    admin_only = requires(accept.runtime.verifier, "admin")

    @api.post("/units/import", status_code=202, tags=["registry"],
              responses=problem_responses(400, 409, 413, 415),
              summary="Import addressed units from a CSV (code,name,kind,province); admin only",
              openapi_extra=request_body(("text/csv", {"type": "string"})))  # fmt: skip
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
