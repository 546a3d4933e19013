"""/v1/units/{unit}/tasks and /v1/units/{unit}/submissions: what a unit still owes, and what it
has sent — read by the unit itself (or the office)."""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from smonth_intake import desk, handlers
from smonth_intake.routes import Accept, UnitPath, resource_router
from smonth_shared.auth import Principal, requires
from smonth_shared.openapi import problem_responses


def router(accept: Accept, deps: Callable[[], handlers.Deps]) -> APIRouter:
    api = resource_router()
    runtime = accept.runtime
    readers = requires(runtime.verifier, "unit", "staff", "system", "admin")

    @api.get("/units/{unit}/tasks", tags=["units"], responses=problem_responses(422),
             summary="What the unit still owes and by when, each task with its status")  # fmt: skip
    async def unit_tasks(
        unit: UnitPath, principal: Annotated[Principal, Depends(readers)]
    ) -> dict[str, Any]:
        async with runtime.pool.acquire() as conn:
            return await desk.unit_tasks(conn, deps(), unit, principal=principal)

    @api.get("/units/{unit}/submissions", tags=["units"], responses=problem_responses(422),
             summary="The unit's own submissions, newest first, each with its time and status")  # fmt: skip
    async def unit_submissions(
        unit: UnitPath, principal: Annotated[Principal, Depends(readers)]
    ) -> dict[str, Any]:
        async with runtime.pool.acquire() as conn:
            return await desk.unit_submissions(conn, deps(), unit, principal=principal)

    return api
