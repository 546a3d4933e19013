"""Every HTTP request is counted by its route and answer, timed, and traced as part of the caller's
trace (smonth_shared.measure, plain ASGI in front of every service)."""

from typing import Any

import httpx
from fastapi import FastAPI
from opentelemetry.trace import get_current_span
from prometheus_client import REGISTRY

from smonth_shared.measure import MeasuredRequests

SERVICE = "measured-test"
TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def app() -> FastAPI:
    api = FastAPI()
    api.add_middleware(MeasuredRequests, service=SERVICE)

    @api.get("/things/{thing}")
    async def thing(thing: str) -> dict[str, Any]:
        context = get_current_span().get_span_context()
        return {"thing": thing, "trace_id": f"{context.trace_id:032x}"}

    @api.get("/broken")
    async def broken() -> None:
        raise RuntimeError("an endpoint's own failure")

    return api


def answered(route: str, status: int) -> float:
    labels = {"service": SERVICE, "method": "GET", "route": route, "status": str(status)}
    return REGISTRY.get_sample_value("smonth_http_requests_total", labels) or 0.0


async def test_a_request_is_counted_by_its_route_template_and_status() -> None:
    before = answered("/things/{thing}", 200)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app()), base_url="http://t") as c:
        assert (await c.get("/things/a")).status_code == 200
        assert (await c.get("/things/b")).status_code == 200
        assert (await c.get("/nowhere")).status_code == 404
    assert answered("/things/{thing}", 200) == before + 2
    assert answered("unmatched", 404) >= 1
    timed = REGISTRY.get_sample_value(
        "smonth_http_request_seconds_count",
        {"service": SERVICE, "method": "GET", "route": "/things/{thing}"},
    )
    assert timed is not None and timed >= 2


async def test_a_failing_endpoint_is_counted_as_a_server_error() -> None:
    before = answered("/broken", 500)
    transport = httpx.ASGITransport(app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.get("/broken")).status_code == 500
    assert answered("/broken", 500) == before + 1


async def test_a_request_continues_the_callers_trace() -> None:
    traceparent = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app()), base_url="http://t") as c:
        answer = await c.get("/things/a", headers={"traceparent": traceparent})
    assert answer.json()["trace_id"] == TRACE_ID
