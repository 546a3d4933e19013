"""Ministry systems on `smonth.inbound.v1`: the same rules as HTTP; invalid envelopes are
dead-lettered with the reason; a repeated envelope id has one effect."""

import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from smonth_shared.events import DEADLETTER

pytestmark = pytest.mark.integration

PROGRESS = {"unit": "M16", "as_of": "2021-06-15",
            "indicators": {"drills": 12, "drill_participants": 3400}}  # fmt: skip
DATA: dict[str, tuple[str, dict[str, Any]]] = {
    "progress.reported": ("M16", PROGRESS),
    "summary.submitted": ("M16", {"unit": "M16", "title": "交通运输部总结", "body": "……"}),
    "liaison.designated": ("M16", {"name": "张佳", "position": "安全司科长",
                                   "office_phone": "010-65292114", "mobile": "13700137000",
                                   "email": "zhangjia@mot.gov.cn"}),
    "case.reported": ("44", {"province": "44", "title": "某港口违规装卸危险货物",
                             "industry": "hazardous_chemicals", "enterprise": "某港务公司",
                             "summary": "……", "media_outlet": "南方日报",
                             "published_on": "2021-06-18", "url": "https://example.cn/port"}),
    "tip.received": ("44", {"province": "44", "industry": "road_traffic", "category": "violation",
                            "description": "某客运公司长期超员运营", "contact": {"name": "赵六"}}),
}  # fmt: skip
STATE = {
    "progress.reported": "SELECT submitted_by AS actor FROM progress_snapshots",
    "summary.submitted": "SELECT submitted_by AS actor FROM summary_submissions",
    "liaison.designated": "SELECT designated_by AS actor FROM liaisons",
    "case.reported": "SELECT reported_by AS actor FROM cases",
    "tip.received": "SELECT 'system:mot-stats' AS actor FROM tips",
    "tip.resolved": "SELECT resolved_by AS actor FROM tips WHERE resolved_by IS NOT NULL",
}


def envelope(kind: str, data: dict[str, Any], subject: str, **changes: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "type": kind, "version": 1, "source": "mot-stats",
            "time": datetime.now(UTC).isoformat(), "campaign": "2021", "subject": subject,
            "data": data, **changes}  # fmt: skip


# The units mot-stats is registered for in these tests (M15 too: the subject-mismatch test
# must be refused for the mismatch, not for the registration).
REGISTERED = ["M15", "M16", "44"]


@pytest.fixture
def publish(intake: Any, producer: Any) -> Callable[..., Awaitable[None]]:
    async def send(
        message: dict[str, Any] | bytes, key: str = "M16",
        headers: list[tuple[str, bytes]] | None = None,
    ) -> None:  # fmt: skip
        value = message if isinstance(message, bytes) else json.dumps(message).encode()
        vouched = intake.vouched("mot-stats", REGISTERED) if headers is None else headers
        await producer.send_and_wait(intake.settings.inbound_topic, value, key=key.encode(),
                                     headers=vouched)  # fmt: skip

    return send


@pytest.fixture
async def dead_letters(intake: Any, tap: Any, until: Any) -> Callable[[int], Awaitable[list[Any]]]:
    """The dead letters of this test's inbound topic, once there are `count` of them."""
    opened = await tap([DEADLETTER.name]).open()

    async def read(count: int) -> list[Any]:
        async def mine() -> list[Any]:
            records = await opened.read()
            topic = intake.settings.inbound_topic.encode()
            found = [r for r in records if ("original-topic", topic) in list(r.headers)]
            return found if len(found) >= count else []

        return await until(mine)

    return read


@pytest.mark.parametrize("kind", list(DATA))
async def test_a_valid_envelope_takes_effect_as_over_http_acting_as_its_source(
    intake: Any, publish: Any, until: Any, kind: str
) -> None:
    subject, data = DATA[kind]

    await publish(envelope(kind, data, subject), key=subject)

    (row,) = await until(lambda: intake.rows(STATE[kind]))
    assert row["actor"] == "system:mot-stats"
    assert len(await intake.events(kind)) == 1


async def test_a_tip_outcome_arrives_for_the_tips_province(
    intake: Any, publish: Any, until: Any
) -> None:
    created = await intake.client.post("/v1/tips", json=DATA["tip.received"][1])
    outcome = {"tip_id": created.json()["tip_id"], "status": "verified", "rectified": True,
               "reward_paid": False, "reply": "已查实，责令整改"}  # fmt: skip

    await publish(envelope("tip.resolved", outcome, "44"), key="44")

    await until(lambda: intake.rows(STATE["tip.resolved"]))
    (event,) = await intake.events("tip.resolved")
    assert event["data"]["status"] == "verified"


async def test_an_invalid_envelope_is_dead_lettered_unchanged_with_the_reason(
    intake: Any, publish: Any, dead_letters: Any
) -> None:
    message = envelope("progress.reported", {**PROGRESS, "indicators": {"drills": -1}}, "M16")

    await publish(message)

    (letter,) = await dead_letters(1)
    headers = dict(letter.headers)
    assert json.loads(letter.value) == message
    assert b"data.indicators.drills" in headers["error"]
    assert headers["error-source"] == b"intake"
    assert not await intake.rows("SELECT 1 FROM progress_snapshots")


async def test_bytes_that_are_no_envelope_are_dead_lettered(
    publish: Any, dead_letters: Any
) -> None:
    await publish(b"\xff\xfe not json at all")

    (letter,) = await dead_letters(1)
    assert letter.value == b"\xff\xfe not json at all"
    assert dict(letter.headers)["error"].startswith(b"invalid envelope")


async def test_an_envelope_breaking_a_campaign_rule_is_dead_lettered_quoting_both_values(
    intake: Any, publish: Any, dead_letters: Any
) -> None:
    rule_broken = {**PROGRESS, "indicators": {"drills": 12, "drill_participants": 5}}

    await publish(envelope("progress.reported", rule_broken, "M16"))

    (letter,) = await dead_letters(1)
    assert b"(5)" in dict(letter.headers)["error"] and b"(12)" in dict(letter.headers)["error"]


async def test_an_envelope_whose_subject_is_not_the_unit_of_its_data_is_dead_lettered(
    publish: Any, dead_letters: Any
) -> None:
    await publish(envelope("progress.reported", PROGRESS, "M15"), key="M15")

    (letter,) = await dead_letters(1)
    error = dict(letter.headers)["error"]
    assert b"subject" in error and b"not registered" not in error


async def test_a_repeated_envelope_id_has_one_effect_and_the_consumer_moves_on(
    intake: Any, publish: Any, dead_letters: Any, until: Any
) -> None:
    repeated = envelope("progress.reported", PROGRESS, "M16")
    later = envelope("progress.reported", {**PROGRESS, "as_of": "2021-06-18"}, "M16")

    await publish(repeated)
    await publish(repeated)
    await publish(b"poison in between")
    await publish(later)

    rows = await until(lambda: intake.rows(
        "SELECT as_of FROM progress_snapshots WHERE as_of = '2021-06-18'"))  # fmt: skip
    assert rows
    all_rows = await intake.rows("SELECT as_of, revision FROM progress_snapshots ORDER BY as_of")
    assert [(str(r["as_of"]), r["revision"]) for r in all_rows] == [
        ("2021-06-15", 1), ("2021-06-18", 1),
    ]  # fmt: skip
    assert len(await dead_letters(1)) == 1


UNVOUCHED = {
    "no token": b"authorization: no bearer token",
    "basic credentials": b"authorization: no bearer token",
    "another system's token": b"source: mot-stats is not the token's system (mem-stats)",
    "a unit it is not registered for": b"subject: the system mot-stats is not registered for M16",
    "a token of an unknown key": b"authorization:",
    "a liaison's token": b"authorization: a unit token, not a system's",
}


def unvouched_headers(intake: Any, case: str) -> list[tuple[str, bytes]]:
    stranger = "a-secret-this-intake-does-not-know-of"
    return {
        "no token": [],
        "basic credentials": [("authorization", b"Basic bW90LXN0YXRzOnNlY3JldA==")],
        "another system's token": intake.vouched("mem-stats", REGISTERED),
        "a unit it is not registered for": intake.vouched("mot-stats", ["44"]),
        "a token of an unknown key": intake.vouched("mot-stats", REGISTERED, secret=stranger),
        "a liaison's token": [("authorization", f"Bearer {intake.token('unit', 'M16')}".encode())],
    }[case]


@pytest.mark.parametrize("case", list(UNVOUCHED))
async def test_an_envelope_no_registered_system_vouches_for_is_dead_lettered_with_the_reason(
    intake: Any, publish: Any, dead_letters: Any, case: str
) -> None:
    message = envelope("progress.reported", PROGRESS, "M16")

    await publish(message, headers=unvouched_headers(intake, case))

    (letter,) = await dead_letters(1)
    assert UNVOUCHED[case] in dict(letter.headers)["error"]
    assert "authorization" not in dict(letter.headers), "the token is not kept in a dead letter"
    assert json.loads(letter.value) == message
    assert not await intake.rows("SELECT 1 FROM progress_snapshots")
