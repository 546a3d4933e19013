"""intake's HTTP interface: thin adapters that authenticate, parse, and call one handler each."""

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from smonth_intake import handlers
from smonth_intake.models import CaseSubmission, TipSubmission
from smonth_shared import idempotency
from smonth_shared.auth import Principal, forbid_other_unit, requires
from smonth_shared.db import Connection
from smonth_shared.runtime import Runtime

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]
Write = Callable[[Connection], Awaitable[dict[str, Any]]]


def router(runtime: Runtime, deps: Callable[[], handlers.Deps]) -> APIRouter:
    api = APIRouter(prefix="/v1")
    secret = runtime.settings.safety_month_jwt_secret
    province_unit = requires(secret, "unit", "system", "admin")

    async def accept(
        request: Request, caller: str, key: str | None, body: dict[str, Any], write: Write,
        *, hide: tuple[str, ...] = (),
    ) -> JSONResponse:  # fmt: skip
        """One transaction: the effect, its event, and the answer kept for a retried key."""
        fingerprint = idempotency.request_hash(request.url.path, body)
        async with runtime.pool.acquire() as conn, conn.transaction():
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

    @api.post(
        "/tips", status_code=202, tags=["tips"], summary="Report a hazard (public, anonymous)"
    )
    async def submit_tip(
        request: Request, tip: TipSubmission, idempotency_key: IdempotencyKey = None
    ) -> JSONResponse:
        caller = f"ip:{request.client.host if request.client else 'unknown'}"
        # The receipt code is shown once and stored nowhere in clear, not even for a replay.
        return await accept(
            request, caller, idempotency_key, tip.model_dump(mode="json"),
            lambda conn: handlers.submit_tip(conn, deps(), tip), hide=("receipt_code",),
        )  # fmt: skip

    @api.post("/cases", status_code=202, tags=["cases"], summary="Report a typical case exposed")
    async def report_case(
        request: Request,
        case: CaseSubmission,
        principal: Annotated[Principal, Depends(province_unit)],
        idempotency_key: IdempotencyKey = None,
    ) -> JSONResponse:
        forbid_other_unit(principal, case.province, "province")
        return await accept(
            request, principal.sub, idempotency_key, case.model_dump(mode="json"),
            lambda conn: handlers.report_case(conn, deps(), case, reported_by=principal.sub),
        )  # fmt: skip

    return api
