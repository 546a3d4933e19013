"""Fuzzing: whatever arrives over HTTP (generated from intake's own OpenAPI document) or on the
inbound topic, intake answers with a refusal or an effect, never a server error or a crash."""

import json
from collections.abc import AsyncIterator
from typing import Any
from uuid import uuid4

import asyncpg
import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from smonth_intake import subscribers
from smonth_intake.handlers import Deps
from smonth_intake.workbook import XLSX
from smonth_shared.campaign import load_campaign
from smonth_shared.clock import SimulatedClock
from smonth_shared.consumer import EventProcessor, Record
from smonth_shared.events import DEADLETTER, InboundEnvelope
from smonth_shared.outbox import Outbox

pytestmark = [pytest.mark.integration, pytest.mark.slow]
# A workbook upload is bytes like any file.
schemathesis.serializer.alias(XLSX, "application/octet-stream")

# Fixtures outlive examples on purpose (one intake serves them all), and requests take time.
HEALTH_CHECKS_OFF = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                     HealthCheck.filter_too_much, HealthCheck.data_too_large]  # fmt: skip
FUZZ = settings(max_examples=150, deadline=None, derandomize=True, database=None,
                suppress_health_check=HEALTH_CHECKS_OFF)  # fmt: skip


def to_httpx(case: Any, token: str) -> dict[str, Any]:
    """A schemathesis case as the keywords of `httpx.AsyncClient.request`."""
    kwargs = case.as_transport_kwargs(base_url="http://intake")
    kwargs.pop("cookies", None)
    kwargs["headers"] = {**kwargs["headers"], "Authorization": f"Bearer {token}"}
    data = kwargs.pop("data", None)
    if isinstance(data, str | bytes):
        kwargs["content"] = data
    elif data is not None:
        kwargs["data"] = data
    return kwargs


@pytest.fixture(scope="module")
def openapi(module_intake: Any) -> Any:
    return schemathesis.openapi.from_dict(module_intake.app.openapi())


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@FUZZ
@given(data=st.data())
async def test_no_generated_request_gets_a_server_error(
    module_intake: Any, openapi: Any, mode: GenerationMode, data: st.DataObject
) -> None:
    case = data.draw(openapi.as_strategy(generation_mode=mode), label="request")
    token = data.draw(st.sampled_from([module_intake.token("admin"),
                                       module_intake.token("unit", "44")]), label="token")  # fmt: skip
    try:
        answer = await module_intake.client.request(**to_httpx(case, token))
    except httpx.HTTPError:  # refused by the client before it was sent: no server involved
        return

    assert answer.status_code < 500, f"{case.method} {case.formatted_path}: {answer.text}"


# --- the inbound topic ---------------------------------------------------------------------

VALID: dict[str, tuple[str, dict[str, Any]]] = {
    "progress.reported": ("44", {"unit": "44", "as_of": "2021-06-15", "indicators": {"drills": 1}}),
    "summary.submitted": ("44", {"unit": "44", "title": "总结", "body": "正文"}),
    "liaison.designated": ("44", {"name": "李辉", "position": "处长", "office_phone": "010-64463407",
                                  "mobile": "13800138000", "email": "a@b.cn"}),
    "case.reported": ("44", {"province": "44", "title": "案例", "industry": "mining",
                             "enterprise": "某矿", "summary": "经过", "media_outlet": "南方日报",
                             "published_on": "2021-06-18", "url": "https://example.cn/c"}),
    "tip.received": ("44", {"province": "44", "industry": "mining", "category": "violation",
                            "description": "违规组织井下作业", "contact": {"phone": "13912345678"}}),
    "tip.resolved": ("44", {"tip_id": str(uuid4()), "status": "verified", "rectified": True,
                            "reward_paid": False, "reply": "已核查"}),
}  # fmt: skip
ANY_VALUE = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False),
    st.text(max_size=20),
    st.dates().map(str),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=8), st.integers(), max_size=2),
)


@st.composite
def envelopes(draw: st.DrawFn) -> bytes:
    """Valid envelopes bent in one place or another, and bytes that are no envelope at all."""
    kind = draw(st.sampled_from(sorted(VALID)))
    subject, data = VALID[kind]
    message: dict[str, Any] = {"id": str(draw(st.uuids())), "type": kind, "version": 1,
                               "source": "fuzz", "time": "2021-06-20T10:00:00+08:00",
                               "campaign": "2021", "subject": subject, "data": dict(data)}  # fmt: skip
    target = draw(st.sampled_from(["data", "envelope", "none"]))
    where = message["data"] if target == "data" else message
    if target != "none":
        key = draw(st.sampled_from([*where, "unexpected"]))
        if draw(st.booleans()):
            where[key] = draw(ANY_VALUE)
        else:
            where.pop(key, None)
    as_bytes = json.dumps(message).encode()
    return draw(st.one_of(st.just(as_bytes), st.binary(max_size=40),
                          st.just(as_bytes[: draw(st.integers(0, len(as_bytes)))])))  # fmt: skip


class CollectedDeadLetters:
    def __init__(self) -> None:
        self.sent: list[tuple[bytes, str]] = []

    async def send(self, record: Record, error: str) -> None:
        self.sent.append((record.value or b"", error))


@pytest.fixture(scope="module")
async def processor(module_intake: Any) -> AsyncIterator[tuple[EventProcessor, Any, Any]]:
    """The inbound consumer's processor on the real database, its dead letters collected."""
    settings = module_intake.settings
    pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=2,
                                     server_settings={"search_path": "intake"})  # fmt: skip
    assert pool is not None
    deps = Deps(campaign=load_campaign("2021"), clock=SimulatedClock(settings.clock_start, speed=1),
                outbox=Outbox("intake"), cipher=settings.contact_cipher())  # fmt: skip
    dead = CollectedDeadLetters()
    processor = EventProcessor(
        consumer="fuzz", pool=pool, dead_letters=dead,  # type: ignore[arg-type]
        effects=subscribers.effects(lambda: deps), max_attempts=1,
        parse=InboundEnvelope.from_bytes,
    )  # fmt: skip
    yield processor, pool, dead
    await pool.close()


@FUZZ
@given(value=envelopes())
async def test_no_envelope_crashes_the_consumer_and_a_bad_one_is_dead_lettered_with_a_reason(
    processor: tuple[EventProcessor, Any, Any], value: bytes
) -> None:
    consumer, pool, dead = processor
    before = len(dead.sent)

    await consumer.process_one(Record("fuzz", 0, 0, b"44", value))

    refused = dead.sent[before:]
    assert refused or await _claimed(pool, value), "neither applied nor dead-lettered"
    assert all(error.startswith(("invalid envelope", *(f"{t} refused" for t in VALID)))
               for _, error in refused), refused  # fmt: skip


async def _claimed(pool: asyncpg.Pool, value: bytes) -> bool:
    try:
        event_id = InboundEnvelope.from_bytes(value).id
    except ValueError:
        return False
    return bool(await pool.fetchval(
        "SELECT 1 FROM inbox WHERE consumer = 'fuzz' AND event_id = $1", event_id))  # fmt: skip


@settings(max_examples=1, deadline=None, derandomize=True, database=None,
          suppress_health_check=HEALTH_CHECKS_OFF)  # fmt: skip
@given(batch=st.lists(envelopes(), min_size=30, max_size=30))
async def test_a_batch_of_generated_envelopes_on_the_real_topic_leaves_the_consumer_running(
    intake: Any, producer: Any, tap: Any, until: Any, batch: list[bytes]
) -> None:
    letters = await tap([DEADLETTER.name]).open()
    sentinel = {"id": str(uuid4()), "type": "progress.reported", "version": 1, "source": "fuzz",
                "time": "2021-06-20T10:00:00+08:00", "campaign": "2021", "subject": "M16",
                "data": {"unit": "M16", "as_of": "2021-06-19", "indicators": {"drills": 9}}}  # fmt: skip

    vouched = intake.vouched("fuzz", sorted({"M16", *(subject for subject, _ in VALID.values())}))
    for value in [*batch, json.dumps(sentinel).encode()]:
        await producer.send_and_wait(intake.settings.inbound_topic, value, key=b"M16",
                                     headers=vouched)  # fmt: skip

    await until(lambda: intake.rows("SELECT 1 FROM progress_snapshots WHERE as_of = '2021-06-19'"))
    topic = intake.settings.inbound_topic.encode()
    dead = [r.value for r in await letters.read() if ("original-topic", topic) in r.headers]
    claimed = {r["event_id"] for r in await intake.rows("SELECT event_id FROM inbox")}
    for value in batch:
        assert value in dead or _event_id(value) in claimed, value


def _event_id(value: bytes) -> Any:
    try:
        return InboundEnvelope.from_bytes(value).id
    except ValueError:
        return None
