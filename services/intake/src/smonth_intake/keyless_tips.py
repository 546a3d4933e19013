"""The public's plain tip (`POST /v1/tips` with a JSON body, no idempotency key, no query) taken
without FastAPI's per-request layers: at hundreds of tips a second its routing, dependency solving
and JSON-then-model validation cost more than the tip's own work (B1).

The body is read against the route's limit and validated once, straight from its bytes, into the
route's own model; the tip then goes to the same `Tipline.submit` as the route's. Whatever is not
such a tip, or is not valid, goes on to the FastAPI route with its body replayed, so that every
refusal of the body (422, 413) and every other request is answered by the one route that the
OpenAPI document describes."""

from collections.abc import Sequence

from fastapi import APIRouter
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smonth_intake.models import TipSubmission
from smonth_intake.tipline import Tipline
from smonth_shared.problems import Problem, problem_response

PATH = "/v1/tips"


def tip_route(routers: Sequence[APIRouter]) -> APIRoute:
    """The FastAPI route of `POST /v1/tips` among the service's routers."""
    for router in routers:
        for route in router.routes:
            if (
                isinstance(route, APIRoute)
                and route.path == PATH
                and "POST" in (route.methods or ())
            ):
                return route
    raise LookupError(f"no route POST {PATH}")


class KeylessTips:
    """ASGI middleware, inside the service's measuring (the request is counted, timed and traced
    as the route's) and around FastAPI's own layers."""

    def __init__(self, app: ASGIApp, *, tipline: Tipline, route: APIRoute, limit: int) -> None:
        self.app = app
        self.tipline = tipline
        self.route = route  # the request's `route`, as the router would have set it
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not _plain_tip(scope):
            await self.app(scope, receive, send)
            return
        body, more = await _read(receive, self.limit)
        tip = None if more or len(body) > self.limit else _valid(body)
        if tip is None:  # the route refuses it, in its own words
            await self.app(scope, _replaying(body, more, receive), send)
            return
        scope["route"] = self.route
        client = scope.get("client")
        try:
            answer = await self.tipline.submit(client[0] if client else "unknown", tip)
        except Problem as problem:  # the app's handler of problems is further in: answered here
            await problem_response(problem, scope["path"])(scope, receive, send)
            return
        await JSONResponse(answer, status_code=202)(scope, receive, send)


def _plain_tip(scope: Scope) -> bool:
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"] != PATH:
        return False
    # A root path would make the problem documents' `instance` differ from the route's.
    if scope.get("query_string") or scope.get("root_path"):
        return False
    headers = Headers(scope=scope)
    media = headers.get("content-type", "").split(";")[0].strip().lower()
    return media == "application/json" and "idempotency-key" not in headers


async def _read(receive: Receive, limit: int) -> tuple[bytes, bool]:
    """The body up to a little past `limit`, and whether more is to come from `receive` (the rest
    of the body, or the client's leaving)."""
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        message = await receive()
        if message["type"] != "http.request":
            return b"".join(chunks), True  # the client left: the route hears it too
        chunks.append(message.get("body", b""))
        size += len(chunks[-1])
        if not message.get("more_body", False):
            return b"".join(chunks), False
    return b"".join(chunks), True


def _valid(body: bytes) -> TipSubmission | None:
    try:
        return TipSubmission.model_validate_json(body)
    except ValidationError:
        return None


def _replaying(body: bytes, more: bool, receive: Receive) -> Receive:
    """`receive` as if nothing had been read from it yet."""
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": more}

    return replay
