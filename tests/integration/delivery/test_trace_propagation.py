"""Tracing: one trace from the request through the outbox, the relay and every consumer."""

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer
from fastapi import FastAPI
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from smonth_shared.consumer import DeadLetters, EventProcessor, Record, one_by_one
from smonth_shared.events import Envelope
from smonth_shared.kafka import KafkaAccess
from smonth_shared.measure import MeasuredRequests
from smonth_shared.telemetry import tracer
from tests.integration.delivery.delivery_kit import (
    PARTITIONS,
    case_event,
    commit_events,
    read_topic,
)

pytestmark = pytest.mark.integration


async def _remember(conn: asyncpg.Connection, event: Envelope) -> None:
    await conn.execute("INSERT INTO things (event_id, name) VALUES ($1, 'traced')", event.id)


async def test_a_request_the_relay_and_the_consumer_share_one_trace(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, topic: str, kafka: KafkaAccess,
    start_relay, spans: InMemorySpanExporter,
) -> None:  # fmt: skip
    event = case_event("44", "traced")
    start_relay()
    processor = EventProcessor(
        consumer="reports", pool=pool, dead_letters=DeadLetters(producer, source="reports"),
        effects={"case.reported": _remember},
    )  # fmt: skip

    with tracer().start_as_current_span("POST /v1/cases", kind=SpanKind.SERVER):
        await commit_events(pool, topic, event)
    records = await read_topic(kafka, topic, PARTITIONS, until=bool)
    await processor.process([Record.of(record) for record in records])

    finished = {span.name: span for span in spans.get_finished_spans()}
    request = finished["POST /v1/cases"]
    publish = finished[f"{topic} publish"]
    process = finished[f"{topic} process"]
    assert (publish.kind, process.kind) == (SpanKind.PRODUCER, SpanKind.CONSUMER)
    assert publish.parent is not None and process.parent is not None
    assert publish.parent.span_id == request.context.span_id
    assert process.parent.span_id == publish.context.span_id
    assert {request.context.trace_id, publish.context.trace_id, process.context.trace_id} == {
        request.context.trace_id
    }
    assert process.attributes is not None
    assert process.attributes["messaging.message.id"] == str(event.id)
    assert dict(records[0].headers)["traceparent"].decode().split("-")[1] == (
        f"{request.context.trace_id:032x}"
    )


async def test_a_batch_of_one_continues_its_events_trace_and_a_larger_one_links_to_each(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, topic: str, kafka: KafkaAccess,
    start_relay, spans: InMemorySpanExporter,
) -> None:  # fmt: skip
    start_relay()
    processor = EventProcessor(
        consumer="reports", pool=pool, dead_letters=DeadLetters(producer, source="reports"),
        effects={"case.reported": _remember},
        batch_effects={"case.reported": one_by_one(_remember)},
    )  # fmt: skip
    for title in ("first", "second"):
        with tracer().start_as_current_span(f"POST {title}", kind=SpanKind.SERVER):
            await commit_events(pool, topic, case_event("44", title))
    first, second = await read_topic(kafka, topic, PARTITIONS, until=lambda r: len(r) == 2)

    await processor.process([Record.of(first)])
    await processor.process([Record.of(first), Record.of(second)])

    finished = spans.get_finished_spans()
    requests = {s.name: s for s in finished if s.kind == SpanKind.SERVER}
    alone, batch = [s for s in finished if s.name == f"{topic} process"]
    assert alone.parent is not None and not alone.links
    assert alone.context.trace_id == requests["POST first"].context.trace_id
    assert batch.parent is None
    assert {link.context.trace_id for link in batch.links} == {
        request.context.trace_id for request in requests.values()
    }


async def test_an_event_written_outside_any_trace_starts_its_own_at_the_relay(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay,
    spans: InMemorySpanExporter,
) -> None:  # fmt: skip
    start_relay()

    await commit_events(pool, topic, case_event("44", "untraced"))
    [record] = await read_topic(kafka, topic, PARTITIONS, until=bool)

    [publish] = [span for span in spans.get_finished_spans() if span.name == f"{topic} publish"]
    assert publish.parent is None
    assert dict(record.headers)["traceparent"].decode().split("-")[2] == (
        f"{publish.context.span_id:016x}"
    )


async def test_a_request_is_a_server_span_of_the_callers_trace_with_its_answer(
    spans: InMemorySpanExporter,
) -> None:
    api = FastAPI()
    api.add_middleware(MeasuredRequests, service="traced-test")

    @api.get("/things/{thing}")
    async def thing(thing: str) -> dict[str, str]:
        return {"thing": thing}

    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(api), base_url="http://t") as c:
        await c.get("/things/a", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
        await c.get("/things/b")

    # FastAPI makes spans of its own inside ours, named by the route's template.
    first, second = [s for s in spans.get_finished_spans() if s.name.startswith("GET /things/")
                     and "{" not in s.name]  # fmt: skip
    assert (first.name, first.kind) == ("GET /things/a", SpanKind.SERVER)
    assert f"{first.context.trace_id:032x}" == trace_id
    assert first.parent is not None and f"{first.parent.span_id:016x}" == "00f067aa0ba902b7"
    assert first.attributes is not None and first.attributes["http.response.status_code"] == 200
    assert second.parent is None and f"{second.context.trace_id:032x}" != trace_id
