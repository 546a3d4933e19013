"""OpenTelemetry: one tracer provider per process, and the W3C trace context carried in headers.

The trace of a request continues through the outbox row (its `traceparent` is stored with the
event), the relay (a producer span) and every consumer (a consumer span whose parent is that).
"""

import functools
import os
from collections.abc import Iterable, Mapping

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.environment_variables import OTEL_TRACES_EXPORTER
from opentelemetry.sdk.environment_variables import (
    OTEL_EXPORTER_OTLP_ENDPOINT,
    OTEL_EXPORTER_OTLP_PROTOCOL,
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT,
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL,
    OTEL_SDK_DISABLED,
)
from opentelemetry.sdk.resources import SERVICE_NAME, OTELResourceDetector, Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

TRACER_NAME = "safety-month"


def setup_tracing(
    service_name: str, processors: Iterable[SpanProcessor] = ()
) -> TracerProvider | None:
    """Install the SDK's provider for this process when something takes its spans: `processors`,
    and an OTLP exporter when the standard OpenTelemetry variables name a collector
    (`OTEL_EXPORTER_OTLP_ENDPOINT`). Without any, spans would be made only to be dropped, at a
    cost that outweighs some requests' own work: the API's tracer makes none, and a caller's trace
    context still travels through the outbox and the topics to every consumer.

    The SDK reads the rest of the variables itself: the sampler (`OTEL_TRACES_SAMPLER`, `_ARG`),
    the exporter's endpoint, headers and time-out, the batch's sizes (`OTEL_BSP_*`), and
    `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` over the service's own name. The caller
    shuts the provider down when the service stops, which sends the spans still batched."""
    processors = list(processors)
    exporter = otlp_exporter_from_env()
    if exporter is not None:
        processors.append(BatchSpanProcessor(exporter))
    if not processors:
        return None
    provider = TracerProvider(resource=service_resource(service_name))  # sampler: from the env
    for processor in processors:
        provider.add_span_processor(processor)
    trace.set_tracer_provider(provider)
    return provider


def service_resource(service_name: str) -> Resource:
    """The service's name, unless `OTEL_SERVICE_NAME` gives another (a replica's, say)."""
    return Resource.create({SERVICE_NAME: service_name}).merge(OTELResourceDetector().detect())


def otlp_exporter_from_env() -> SpanExporter | None:
    """The OTLP span exporter the variables ask for, or None when they name no collector (or turn
    tracing off). `OTEL_EXPORTER_OTLP_PROTOCOL` chooses `http/protobuf` (the default the
    specification gives) or `grpc`; the SDK's own configurator does the same, but only as a
    private module that also installs metrics and logs."""
    env = os.environ
    if env.get(OTEL_SDK_DISABLED, "").strip().lower() == "true":
        return None
    if env.get(OTEL_TRACES_EXPORTER, "otlp").strip().lower() == "none":
        return None
    if not (env.get(OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) or env.get(OTEL_EXPORTER_OTLP_ENDPOINT)):
        return None
    protocol = (env.get(OTEL_EXPORTER_OTLP_TRACES_PROTOCOL)
                or env.get(OTEL_EXPORTER_OTLP_PROTOCOL) or "http/protobuf").strip()  # fmt: skip
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcSpanExporter,  # grpc loaded only by those who ask for it
        )

        return GrpcSpanExporter()
    if protocol == "http/protobuf":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpSpanExporter,
        )

        return HttpSpanExporter()
    raise ValueError(
        f"{OTEL_EXPORTER_OTLP_PROTOCOL}={protocol!r}: the services export over 'http/protobuf' "
        "or 'grpc'"
    )


@functools.cache
def tracer() -> trace.Tracer:
    """Made once: getting a tracer costs more than a span. Before a provider is installed this is
    a proxy, which uses the provider once there is one."""
    return trace.get_tracer(TRACER_NAME)


_records_spans = False


def records_spans() -> bool:
    """Whether this process's spans are taken by anything (setup_tracing installed a provider).
    Asked at every request and every event sent: once true it stays so (OpenTelemetry sets the
    process's provider once), and the look-up (an environment read and an ABC check) is spared."""
    global _records_spans
    if not _records_spans:
        _records_spans = isinstance(trace.get_tracer_provider(), TracerProvider)
    return _records_spans


def current_trace_headers(context: Context | None = None) -> dict[str, str]:
    carrier: dict[str, str] = {}
    propagate.inject(carrier, context=context)
    return carrier


def context_from_headers(headers: Mapping[str, str]) -> Context:
    return propagate.extract(dict(headers))


def decode_kafka_headers(headers: Iterable[tuple[str, bytes | None]] | None) -> dict[str, str]:
    return {key: (value or b"").decode("utf-8", "replace") for key, value in headers or ()}
