"""/v1/tips: the public's 12350 tips, their look-up by receipt code, and the province's answer."""

from collections.abc import Callable
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from smonth_intake import handlers
from smonth_intake.models import TipLookup, TipOutcome, TipSubmission
from smonth_intake.routes import Accept, IdempotencyKey, client_address, resource_router
from smonth_intake.tipline import TIP_RATE_LIMIT
from smonth_shared.auth import Principal, requires
from smonth_shared.openapi import problem_responses


def router(accept: Accept, deps: Callable[[], handlers.Deps]) -> APIRouter:
    api = resource_router()
    runtime, tipline = accept.runtime, accept.tipline
    for_a_unit = requires(runtime.verifier, "unit", "system", "admin")
    unit_only = requires(runtime.verifier, "unit")

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

    return api
