"""The HTTP side of every service's telemetry: a server span, the latency and the count of each
request. Plain ASGI, not Starlette's BaseHTTPMiddleware, which runs each request through extra
tasks and streams and costs more than some endpoints' own work."""

import time
from typing import Any

from opentelemetry import context as otel_context
from opentelemetry import propagate
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smonth_shared.telemetry import context_from_headers, records_spans, tracer

HTTP_REQUESTS = Counter(
    "smonth_http_requests_total", "HTTP requests answered", ["service", "method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "smonth_http_request_seconds", "HTTP request latency", ["service", "method", "route"]
)


class MeasuredRequests:
    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service
        # The headers the propagators read (traceparent, tracestate, baggage): only those are
        # decoded, not every header of every request.
        self.trace_fields = frozenset(
            name.encode("latin-1") for name in propagate.get_global_textmap().fields
        )
        # Each label set's metric, looked up once: `labels()` takes a lock at every call.
        self._latency: dict[tuple[str, str], Any] = {}
        self._answered: dict[tuple[str, str, int], Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # what the client gets when the app fails before it answers

        async def send_noting_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        carried = {name.decode("latin-1"): value.decode("latin-1")
                   for name, value in scope["headers"] if name in self.trace_fields}  # fmt: skip
        if records_spans():
            with tracer().start_as_current_span(
                f"{scope['method']} {scope['path']}", kind=SpanKind.SERVER,
                context=context_from_headers(carried),
            ) as span:  # fmt: skip
                try:
                    await self.app(scope, receive, send_noting_status)
                finally:
                    span.set_attribute("http.response.status_code", status)
                    self._measure(scope, started, status)
            return
        # Nothing takes spans: a span would be made only to be dropped. The caller's trace
        # context is still the request's, so that the events it writes continue that trace.
        token = otel_context.attach(propagate.extract(carried)) if carried else None
        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            if token is not None:
                otel_context.detach(token)
            self._measure(scope, started, status)

    def _measure(self, scope: Scope, started: float, status: int) -> None:
        method = scope["method"]
        route = getattr(scope.get("route"), "path", "unmatched")
        latency = self._latency.get((method, route))
        if latency is None:
            latency = self._latency[method, route] = HTTP_LATENCY.labels(
                self.service, method, route
            )
        latency.observe(time.perf_counter() - started)
        answered = self._answered.get((method, route, status))
        if answered is None:
            answered = self._answered[method, route, status] = HTTP_REQUESTS.labels(
                self.service, method, route, str(status)
            )
        answered.inc()
