"""Spans leave the process only when the standard OpenTelemetry variables name a collector."""

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
    OTLPSpanExporter as GrpcSpanExporter,
)
from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
    OTLPSpanExporter as HttpSpanExporter,
)

from smonth_shared.telemetry import otlp_exporter_from_env, service_resource, setup_tracing

OTEL_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_PROTOCOL", "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_TRACES_EXPORTER",
    "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
)  # fmt: skip


@pytest.fixture(autouse=True)
def no_otel_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in OTEL_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def test_without_a_collector_named_nothing_is_made() -> None:
    assert otlp_exporter_from_env() is None
    assert setup_tracing("intake") is None


def test_a_collectors_endpoint_gives_an_otlp_http_exporter_to_its_traces_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")

    exporter = otlp_exporter_from_env()

    assert isinstance(exporter, HttpSpanExporter)
    assert exporter._endpoint == "http://collector:4318/v1/traces"
    exporter.shutdown()


def test_the_grpc_protocol_gives_the_grpc_exporter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4317")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")

    exporter = otlp_exporter_from_env()

    assert isinstance(exporter, GrpcSpanExporter)
    exporter.shutdown()


@pytest.mark.parametrize(("name", "value"), [("OTEL_TRACES_EXPORTER", "none"),
                                             ("OTEL_SDK_DISABLED", "true")])  # fmt: skip
def test_tracing_turned_off_makes_no_exporter_even_with_an_endpoint(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv(name, value)

    assert otlp_exporter_from_env() is None


def test_an_unknown_protocol_is_refused_naming_the_ones_served(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json")

    with pytest.raises(ValueError, match="'http/protobuf' or 'grpc'"):
        otlp_exporter_from_env()


def test_spans_carry_the_services_name_unless_the_variables_give_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert service_resource("reports").attributes["service.name"] == "reports"

    monkeypatch.setenv("OTEL_SERVICE_NAME", "reports-eu")
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "deployment.environment=staging")
    resource = service_resource("reports")

    assert resource.attributes["service.name"] == "reports-eu"
    assert resource.attributes["deployment.environment"] == "staging"
