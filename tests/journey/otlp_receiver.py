"""A real OTLP/HTTP receiver, as a collector is one: it takes the `ExportTraceServiceRequest`
protobufs the services' exporters post to `/v1/traces` and keeps the spans for a test to wait on."""

import gzip
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan


@dataclass(frozen=True)
class ReceivedSpan:
    service: str  # the resource's service.name
    instance: str  # the resource's service.instance.id: one per process
    name: str
    kind: int  # ProtoSpan.SpanKind
    trace_id: str  # hex, as in a traceparent
    span_id: str
    parent_span_id: str  # "" for a root

    @classmethod
    def of(cls, resource: dict[str, str], span: ProtoSpan) -> "ReceivedSpan":
        return cls(
            resource.get("service.name", ""), resource.get("service.instance.id", ""), span.name,
            span.kind, span.trace_id.hex(), span.span_id.hex(), span.parent_span_id.hex(),
        )  # fmt: skip


class OtlpReceiver:
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.requests = 0
        self._arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                if self.path != "/v1/traces":
                    self.send_error(404)
                    return
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if self.headers.get("Content-Encoding") == "gzip":
                    body = gzip.decompress(body)
                receiver._take(ExportTraceServiceRequest.FromString(body))
                answer = ExportTraceServiceResponse().SerializeToString()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the exporters post every fraction of a second."""

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def endpoint(self) -> str:
        """What OTEL_EXPORTER_OTLP_ENDPOINT names: the exporter adds `/v1/traces`."""
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def _take(self, request: ExportTraceServiceRequest) -> None:
        received = []
        for resource_spans in request.resource_spans:
            resource = {attribute.key: attribute.value.string_value
                        for attribute in resource_spans.resource.attributes}  # fmt: skip
            for scope_spans in resource_spans.scope_spans:
                received += [ReceivedSpan.of(resource, span) for span in scope_spans.spans]
        with self._arrived:
            self.spans += received
            self.requests += 1
            self._arrived.notify_all()

    def wait_for(
        self, match: Callable[[ReceivedSpan], bool], *, what: str, timeout: float = 60.0
    ) -> ReceivedSpan:
        """The first span received that `match`es, waiting for it as spans arrive."""
        deadline = time.monotonic() + timeout
        with self._arrived:
            while True:
                found = next((span for span in self.spans if match(span)), None)
                if found is not None:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = "\n".join(f"  {s.service}: {s.name} {s.trace_id}"
                                     for s in self.spans[-40:])  # fmt: skip
                    raise AssertionError(f"no span {what} after {timeout:.0f} s; received:\n{seen}")
                self._arrived.wait(left)


@contextmanager
def otlp_receiver() -> Iterator[OtlpReceiver]:
    receiver = OtlpReceiver()
    serving = threading.Thread(target=receiver._server.serve_forever, daemon=True)
    serving.start()
    try:
        yield receiver
    finally:
        receiver._server.shutdown()
        receiver._server.server_close()
        serving.join(timeout=5)
