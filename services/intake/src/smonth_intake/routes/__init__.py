"""intake's HTTP routes, one module per resource; what they all share is here: the idempotent
acceptance of a write, the idempotency key header, and the OpenAPI body of a route that reads its
body itself."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse

from smonth_intake import forms
from smonth_intake.tipline import RateLimit, Tipline
from smonth_shared import idempotency
from smonth_shared.db import Connection
from smonth_shared.events import UnitCode
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


def request_body(*media: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    """The OpenAPI request body of an endpoint that reads its body itself."""
    return {"requestBody": {"required": True,
                            "content": {name: {"schema": schema} for name, schema in media}}}  # fmt: skip


def with_file(schema: dict[str, Any]) -> dict[str, Any]:
    properties = {**schema["properties"], "file": {"type": "string", "format": "binary"}}
    return {**schema, "properties": properties}


@dataclass(frozen=True)
class Accept:
    """One transaction: the effect, its event, and the answer kept for a retried key.

    A rate limit is counted just before, outside the transaction, so that a refused or invalid
    request still counts."""

    runtime: Runtime
    tipline: Tipline

    async def __call__(
        self, request: Request, caller: str, key: str | None, body: Callable[[], dict[str, Any]],
        write: Write, *, hide: tuple[str, ...] = (), limit: RateLimit | None = None,
    ) -> JSONResponse:  # fmt: skip
        if limit is not None:
            await self.tipline.limit_rate(client_address(request), limit)
        async with self.runtime.pool.acquire() as conn, conn.transaction():
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


def resource_router() -> APIRouter:
    """A resource's routes under /v1, included by the app itself: FastAPI keeps a nested router's
    own route in the request's scope, whose path would then lack /v1 in the metrics' `route` label
    and in the look-up of an operation's query parameters."""
    return APIRouter(prefix="/v1", max_body_size=forms.JSON_LIMIT)
