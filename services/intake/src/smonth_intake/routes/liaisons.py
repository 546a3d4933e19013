"""/v1/liaisons/{unit}: attachment 2, the unit's liaison."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from smonth_intake import desk, handlers
from smonth_intake.models import LiaisonDesignation
from smonth_intake.routes import Accept, IdempotencyKey, UnitPath, resource_router
from smonth_shared.auth import Principal, requires
from smonth_shared.openapi import problem_responses


def router(accept: Accept, deps: Callable[[], handlers.Deps]) -> APIRouter:
    api = resource_router()
    runtime = accept.runtime
    for_a_unit = requires(runtime.verifier, "unit", "system", "admin")
    readers = requires(runtime.verifier, "unit", "staff", "system", "admin")

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

    @api.get("/liaisons/{unit}", tags=["units"], responses=problem_responses(404, 422),
             summary="The unit's current liaison (what attachment 2 is pre-filled with)")  # fmt: skip
    async def current_liaison(
        unit: UnitPath, principal: Annotated[Principal, Depends(readers)]
    ) -> dict[str, Any]:
        async with runtime.pool.acquire() as conn:
            return await desk.current_liaison(conn, deps(), unit, principal=principal)

    return api
