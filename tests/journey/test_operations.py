"""What an operator sees of the running services, intake and reports each its own process.
Traces leave the processes: with the standard OpenTelemetry variables set, they export their spans
over OTLP, and a tip is one trace from its request to reports' projection. Every metric the alert
rules name is on their /metrics, and tells how the tip went."""

import asyncio
import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
import yaml
from cryptography.fernet import Fernet
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from safety_month.demo.sinks import free_port
from safety_month.infra.stack import Endpoints
from safety_month.supervisor import Supervisor
from tests import polling
from tests.journey.journey_kit import caught_up
from tests.journey.otlp_receiver import OtlpReceiver, otlp_receiver
from tests.promql import PROMETHEUS_OWN, exported, named_series

pytestmark = [pytest.mark.integration, pytest.mark.journey]

ALERTS = Path(__file__).parents[2] / "deploy/prometheus/alerts.yml"
T = TypeVar("T")

TIP = {"province": "44", "industry": "mining", "category": "major_hazard",
       "description": "井下通风设施长期停用，存在重大隐患"}  # fmt: skip


@pytest.fixture(scope="module")
def receiver() -> Iterator[OtlpReceiver]:
    with otlp_receiver() as receiving:
        yield receiving


@pytest.fixture(scope="module")
def traced_services(
    infra: Endpoints, module_database_url: str, receiver: OtlpReceiver,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Supervisor]:  # fmt: skip
    folder: Path = tmp_path_factory.mktemp("traced")
    group_prefix = f"traced-{uuid.uuid4().hex[:8]}"
    env = {
        **infra.as_env(),
        "DATABASE_URL": module_database_url,
        "SAFETY_MONTH_JWT_SECRET": "traced-secret-0123456789abcdef0123456789",
        "TIP_CONTACT_KEY": Fernet.generate_key().decode(),
        "BLOB_DIR": str(folder / "blobs"),
        "CONSUMER_GROUP_PREFIX": group_prefix,
        "OTEL_EXPORTER_OTLP_ENDPOINT": receiver.endpoint,
        "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "1.0",
        "OTEL_BSP_SCHEDULE_DELAY": "200",  # ms: the test waits for the batches, not 5 s each
    }  # fmt: skip
    supervisor = Supervisor(
        env, ports={"intake": free_port(), "reports": free_port()}, own_env=infra.own_env(),
        echo=lambda line: None,
    )  # fmt: skip
    try:
        supervisor.migrate()
        supervisor.start()
        supervisor.wait_ready(timeout=90)
        # The test broker holds earlier tests' tips: only once reports has worked through them
        # does the tip below come to it alone.
        asyncio.run(caught_up(infra.kafka, f"{group_prefix}.reports", ("smonth.tip.v1",), 120))
        yield supervisor
    finally:
        supervisor.stop()


def test_a_tip_is_one_trace_from_intakes_request_to_reports_projection(
    traced_services: Supervisor, receiver: OtlpReceiver
) -> None:
    trace_id, caller_span = uuid.uuid4().hex, uuid.uuid4().hex[:16]
    answer = httpx.post(
        f"{traced_services.url('intake')}/v1/tips", json=TIP, timeout=10,
        headers={"traceparent": f"00-{trace_id}-{caller_span}-01"},
    )  # fmt: skip
    assert answer.status_code == 202, answer.text

    projection = receiver.wait_for(
        lambda s: s.trace_id == trace_id and s.service == "reports"
        and s.kind == ProtoSpan.SPAN_KIND_CONSUMER,
        what="of reports projecting the tip", timeout=90,
    )  # fmt: skip
    request = receiver.wait_for(
        lambda s: s.trace_id == trace_id and s.kind == ProtoSpan.SPAN_KIND_SERVER,
        what="of intake's request",
    )  # fmt: skip
    publish = receiver.wait_for(
        lambda s: s.span_id == projection.parent_span_id, what="the projection's parent"
    )

    assert (request.service, request.name) == ("intake", "POST /v1/tips")
    assert request.parent_span_id == caller_span
    assert (publish.service, publish.name) == ("intake", "smonth.tip.v1 publish")
    assert (publish.kind, publish.trace_id) == (ProtoSpan.SPAN_KIND_PRODUCER, trace_id)
    assert projection.name == "smonth.tip.v1 process"
    assert request.instance == publish.instance != projection.instance  # two processes


def test_every_span_is_exported_with_its_services_name(
    traced_services: Supervisor, receiver: OtlpReceiver
) -> None:
    receiver.wait_for(lambda s: s.service == "intake", what="from intake")
    receiver.wait_for(lambda s: s.service == "reports", what="from reports")

    assert {span.service for span in receiver.spans} == {"intake", "reports"}


def metrics_of(services: Supervisor, service: str) -> str:
    answer = httpx.get(f"{services.url(service)}/metrics", timeout=10)
    assert answer.status_code == 200
    return answer.text


def value(text: str, name: str, **labels: str) -> float | None:
    for line in text.splitlines():
        series, _, number = line.rpartition(" ")
        found = re.fullmatch(rf"{name}(?:\{{(.*)\}})?", series)
        if found and labels.items() <= dict(re.findall(r'(\w+)="([^"]*)"', found[1] or "")).items():
            return float(number)
    return None


def test_every_metric_an_alert_names_is_exported_by_each_running_service(
    traced_services: Supervisor,
) -> None:
    rules = [rule for group in yaml.safe_load(ALERTS.read_text(encoding="utf-8"))["groups"]
             for rule in group["rules"]]  # fmt: skip
    named = {rule["alert"]: named_series(rule["expr"]) for rule in rules}
    assert all(named.values()), named

    for service in ("intake", "reports"):
        offered = exported(metrics_of(traced_services, service)) | PROMETHEUS_OWN
        missing = {alert: names - offered for alert, names in named.items() if names - offered}
        assert not missing, f"{service} does not export {missing}"


def test_after_a_tip_the_metrics_show_no_backlog_no_lag_and_its_request_timed(
    traced_services: Supervisor,
) -> None:
    answer = httpx.post(f"{traced_services.url('intake')}/v1/tips", json=TIP, timeout=10)
    assert answer.status_code == 202, answer.text
    group = f"{traced_services.env['CONSUMER_GROUP_PREFIX']}.reports"

    def settled() -> tuple[str, str] | None:
        intake, reports = (metrics_of(traced_services, s) for s in ("intake", "reports"))
        lags = [value(reports, "smonth_consumer_lag", group=group, topic="smonth.tip.v1",
                      partition=str(p)) for p in range(12)]  # fmt: skip
        if value(intake, "smonth_outbox_backlog_rows", service="intake") != 0:
            return None
        if not any(lag is not None for lag in lags) or any(lags):
            return None
        return intake, reports

    intake, reports = eventually(settled, timeout=60)

    assert value(intake, "smonth_outbox_oldest_age_seconds", service="intake") == 0
    assert value(intake, "smonth_ready", service="intake") == 1
    assert value(reports, "smonth_ready", service="reports") == 1
    timed = value(intake, "smonth_http_request_seconds_count", service="intake", method="POST",
                  route="/v1/tips")  # fmt: skip
    assert timed is not None and timed >= 1


def eventually(check: Callable[[], T | None], *, timeout: float) -> T:
    """Polls `check` until it returns something; the metrics are read at each scrape."""
    return polling.eventually_blocking(check, timeout=timeout, what="the metrics settled")
