"""The HTTP side of every service's telemetry: a server span, the latency and the count of each
request. Plain ASGI, not Starlette's BaseHTTPMiddleware, which runs each request through extra
tasks and streams and costs more than some endpoints' own work."""

import time

from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smonth_shared.telemetry import context_from_headers, tracer

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

        method = scope["method"]
        headers = {name.decode("latin-1"): value.decode("latin-1")
                   for name, value in scope["headers"]}  # fmt: skip
        with tracer().start_as_current_span(
            f"{method} {scope['path']}", kind=SpanKind.SERVER, context=context_from_headers(headers)
        ) as span:  # fmt: skip
            try:
                await self.app(scope, receive, send_noting_status)
            finally:
                span.set_attribute("http.response.status_code", status)
                route = getattr(scope.get("route"), "path", "unmatched")
                HTTP_LATENCY.labels(self.service, method, route).observe(
                    time.perf_counter() - started
                )
                HTTP_REQUESTS.labels(self.service, method, route, str(status)).inc()
