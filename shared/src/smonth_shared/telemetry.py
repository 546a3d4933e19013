"""OpenTelemetry: one tracer provider per process, and the W3C trace context carried in headers.

The trace of a request continues through the outbox row (its `traceparent` is stored with the
event), the relay (a producer span) and every consumer (a consumer span whose parent is that).
"""

import functools
from collections.abc import Iterable, Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider

TRACER_NAME = "safety-month"


def setup_tracing(
    service_name: str, processors: Iterable[SpanProcessor] = ()
) -> TracerProvider | None:
    """Install the SDK's provider for this process when something takes its spans (`processors`,
    each with its exporter). Without any, spans would be made only to be dropped, at a cost that
    outweighs some requests' own work: the API's tracer makes none, and a caller's trace context
    still travels through the outbox and the topics to every consumer."""
    processors = list(processors)
    if not processors:
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    for processor in processors:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    return provider


@functools.cache
def tracer() -> trace.Tracer:
    """Made once: getting a tracer costs more than a span. Before a provider is installed this is
    a proxy, which uses the provider once there is one."""
    return trace.get_tracer(TRACER_NAME)


def records_spans() -> bool:
    """Whether this process's spans are taken by anything (setup_tracing was given processors)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def current_trace_headers(context: Context | None = None) -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return carrier


def context_from_headers(headers: Mapping[str, str]) -> Context:
    return propagate.extract(dict(headers))


def decode_kafka_headers(headers: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    return {key: (value or b"").decode("utf-8", "replace") for key, value in headers or ()}
