"""Traces leave the processes: with the standard OpenTelemetry variables set, intake and reports,
each its own process, export their spans over OTLP, and a tip is one trace from its request to
reports' projection."""

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from safety_month.demo.sinks import free_port
from safety_month.infra.stack import Endpoints
from safety_month.supervisor import Supervisor
from tests.journey.journey_kit import caught_up
from tests.journey.otlp_receiver import OtlpReceiver, otlp_receiver

pytestmark = [pytest.mark.integration, pytest.mark.journey]

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
