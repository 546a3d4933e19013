"""/v1/liaisons/{unit}: attachment 2, the unit's liaison."""

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from smonth_intake import handlers
from smonth_intake.models import LiaisonDesignation
from smonth_intake.routes import Accept, IdempotencyKey, UnitPath
from smonth_shared.auth import Principal, requires
from smonth_shared.openapi import problem_responses


def router(accept: Accept, deps: Callable[[], handlers.Deps]) -> APIRouter:
    api = APIRouter()
    for_a_unit = requires(accept.runtime.verifier, "unit", "system", "admin")

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

    return api
