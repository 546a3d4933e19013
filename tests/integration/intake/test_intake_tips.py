"""Tips from the public: anonymous, rate-limited, followed up by receipt, contact kept for the
province, outcome reported by the province."""

import asyncio
import json
from typing import Any

import pytest
from prometheus_client import REGISTRY

pytestmark = pytest.mark.integration

TIP = {
    "province": "44", "industry": "mining", "category": "major_hazard",
    "description": "某矿井下通风设施损坏多日未修复，仍在组织生产", "city": "韶关市",
}  # fmt: skip
CONTACT = {"name": "王五", "phone": "13912345678", "email": "wangwu@example.cn"}
OUTCOME = {"status": "verified", "rectified": True, "reward_paid": True,
           "reply": "经核查属实，已责令停产整改并依法处罚。"}  # fmt: skip


async def tip(intake: Any, **changes: Any) -> Any:
    return await intake.client.post("/v1/tips", json={**TIP, **changes})


async def test_anyone_may_report_a_tip_without_a_token(intake: Any) -> None:
    answer = await tip(intake)

    assert answer.status_code == 202
    assert set(answer.json()) >= {"tip_id", "receipt_code"}
    (event,) = await intake.events("tip.received")
    assert event["subject"] == "44" and event["data"]["named"] is False


async def test_the_contact_is_stored_only_encrypted(intake: Any) -> None:
    await tip(intake, contact=CONTACT)

    (row,) = await intake.rows("SELECT * FROM tips")
    stored = b"".join(str(value).encode() for value in row.values())
    assert not [value for value in CONTACT.values() if value.encode() in stored]
    (event,) = await intake.events("tip.received")
    assert event["data"]["named"] is True and "contact" not in event["data"]


async def test_a_tip_for_a_province_not_in_the_registry_is_refused(intake: Any) -> None:
    answer = await tip(intake, province="99")

    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == ["province"]


async def test_a_tip_about_the_future_is_refused(intake: Any) -> None:
    answer = await tip(intake, occurred_on="2021-07-01")

    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == ["occurred_on"]


async def test_too_many_tips_from_one_address_get_429_with_retry_after(start_intake: Any) -> None:
    async with start_intake(tip_rate_per_minute=2) as intake:
        answers = [await tip(intake) for _ in range(3)]

    assert [a.status_code for a in answers] == [202, 202, 429]
    assert 1 <= int(answers[2].headers["Retry-After"]) <= 60
    assert answers[2].headers["content-type"] == "application/problem+json"
    assert answers[2].json()["detail_zh"]


async def test_the_tipster_follows_up_with_the_receipt_code_and_sees_only_status_and_reply(
    intake: Any,
) -> None:
    receipt = (await tip(intake, contact=CONTACT)).json()["receipt_code"]

    answer = await intake.client.post("/v1/tips/lookup", json={"receipt_code": receipt})

    assert answer.status_code == 200 and answer.json() == {"status": "received", "reply": None}


async def test_an_unknown_receipt_code_finds_nothing(intake: Any) -> None:
    answer = await intake.client.post(
        "/v1/tips/lookup", json={"receipt_code": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"}
    )

    assert answer.status_code == 404 and answer.json()["detail_zh"]


async def test_look_ups_are_rate_limited_too(start_intake: Any) -> None:
    async with start_intake(tip_rate_per_minute=1) as intake:
        body = {"receipt_code": "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH"}
        answers = [await intake.client.post("/v1/tips/lookup", json=body) for _ in range(2)]

    assert [a.status_code for a in answers] == [404, 429]


async def test_the_province_unit_reads_the_tipsters_contact_and_the_read_is_recorded(
    intake: Any,
) -> None:
    tip_id = (await tip(intake, contact=CONTACT)).json()["tip_id"]

    answer = await intake.client.get(
        f"/v1/tips/{tip_id}/contact", headers=intake.auth("unit", "44")
    )

    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    assert answer.json() == {"tip_id": tip_id, "named": True, **CONTACT}
    (read,) = await intake.rows("SELECT read_by FROM tip_contact_reads")
    assert read["read_by"] == "unit:44"


@pytest.mark.parametrize(("role", "unit"), [("unit", "45"), ("staff", None), ("admin", None)])
async def test_nobody_else_reads_the_contact(intake: Any, role: Any, unit: str | None) -> None:
    tip_id = (await tip(intake, contact=CONTACT)).json()["tip_id"]

    answer = await intake.client.get(f"/v1/tips/{tip_id}/contact", headers=intake.auth(role, unit))

    assert answer.status_code == 403
    assert not [v for v in CONTACT.values() if v in answer.text]


async def test_an_anonymous_tip_has_no_contact_to_read(intake: Any) -> None:
    tip_id = (await tip(intake)).json()["tip_id"]

    answer = await intake.client.get(
        f"/v1/tips/{tip_id}/contact", headers=intake.auth("unit", "44")
    )

    assert answer.json()["named"] is False and answer.json()["phone"] is None


async def test_the_province_reports_the_outcome_and_the_tipster_sees_the_reply(
    intake: Any,
) -> None:
    created = (await tip(intake)).json()

    answer = await intake.client.post(
        f"/v1/tips/{created['tip_id']}/outcome", json=OUTCOME, headers=intake.auth("unit", "44")
    )
    seen = await intake.client.post(
        "/v1/tips/lookup", json={"receipt_code": created["receipt_code"]}
    )

    assert answer.status_code == 202
    assert seen.json() == {"status": "verified", "reply": OUTCOME["reply"]}
    (event,) = await intake.events("tip.resolved")
    assert event["subject"] == "44"
    assert (event["data"]["status"], event["data"]["rectified"]) == ("verified", True)


async def test_another_province_cannot_report_the_outcome(intake: Any) -> None:
    tip_id = (await tip(intake)).json()["tip_id"]

    answer = await intake.client.post(
        f"/v1/tips/{tip_id}/outcome", json=OUTCOME, headers=intake.auth("unit", "45")
    )

    assert answer.status_code == 403


async def test_an_unfounded_tip_with_a_reward_is_refused(intake: Any) -> None:
    tip_id = (await tip(intake)).json()["tip_id"]

    answer = await intake.client.post(
        f"/v1/tips/{tip_id}/outcome", json={**OUTCOME, "status": "unfounded", "rectified": False},
        headers=intake.auth("unit", "44"),
    )  # fmt: skip

    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == ["reward_paid"]


async def test_the_outcome_of_an_unknown_tip_is_not_found(intake: Any) -> None:
    answer = await intake.client.post(
        "/v1/tips/00000000-0000-4000-8000-000000000000/outcome", json=OUTCOME,
        headers=intake.auth("unit", "44"),
    )  # fmt: skip

    assert answer.status_code == 404


async def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(intake: Any) -> None:
    answer = await tip(intake, description="很" * 400_000)

    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_chunked_body_over_the_limit_is_refused_with_413(intake: Any) -> None:
    async def chunks() -> Any:
        for _ in range(40):
            yield b" " * 65536

    answer = await intake.client.post(
        "/v1/tips", content=chunks(), headers={"content-type": "application/json"}
    )

    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"


async def test_tips_sent_at_once_are_each_stored_with_their_own_event_and_receipt(
    start_intake: Any,
) -> None:
    async with start_intake(tip_rate_per_minute=1000) as intake:
        answers = await asyncio.gather(
            *(tip(intake, description=f"第{n}号举报：脚手架未按规定设置连墙件") for n in range(40))
        )  # fmt: skip
        followed = await asyncio.gather(*(
            intake.client.post("/v1/tips/lookup", json={"receipt_code": a.json()["receipt_code"]})
            for a in answers
        ))  # fmt: skip
        rows = await intake.rows("SELECT tip_id, description FROM tips")
        events = await intake.events("tip.received")

    assert [a.status_code for a in answers] == [202] * 40
    assert [f.status_code for f in followed] == [200] * 40
    stored = {str(row["tip_id"]): row["description"] for row in rows}
    assert {a.json()["tip_id"]: f"第{n}号举报：脚手架未按规定设置连墙件"
            for n, a in enumerate(answers)} == stored  # fmt: skip
    assert sorted(e["data"]["tip_id"] for e in events) == sorted(stored)


async def test_tips_sent_at_once_beyond_the_limit_are_refused_exactly_beyond_it(
    start_intake: Any,
) -> None:
    async with start_intake(tip_rate_per_minute=5) as intake:
        answers = await asyncio.gather(*(tip(intake) for _ in range(12)))
        rows = await intake.rows("SELECT count(*) AS tips FROM tips")

    assert sorted(a.status_code for a in answers) == [202] * 5 + [429] * 7
    assert rows[0]["tips"] == 5


async def test_tips_written_together_each_continue_the_trace_of_their_own_request(
    start_intake: Any,
) -> None:
    traces = [f"{n:032x}" for n in range(1, 13)]
    async with start_intake(tip_rate_per_minute=1000) as intake:
        answers = await asyncio.gather(*(
            intake.client.post("/v1/tips", json=TIP,
                               headers={"traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
            for trace in traces
        ))  # fmt: skip
        rows = await intake.rows("SELECT value, headers FROM outbox")

    continued = {json.loads(row["value"])["data"]["tip_id"]:
                 json.loads(row["headers"])["traceparent"].split("-")[1] for row in rows}  # fmt: skip
    assert {
        a.json()["tip_id"]: trace for a, trace in zip(answers, traces, strict=True)
    } == continued


@pytest.mark.parametrize(
    "body",
    [b'{"province": "44"}', b"{not json", b"[]", b"",
     json.dumps({**TIP, "category": "rumour"}).encode(), json.dumps({**TIP, "x": 1}).encode()],
    ids=["missing fields", "invalid json", "not an object", "empty", "bad value", "extra field"],
)  # fmt: skip
async def test_a_refused_tip_gets_the_same_answer_with_or_without_an_idempotency_key(
    intake: Any, body: bytes
) -> None:
    # Without a key the tip takes the keyless path (smonth_intake.keyless_tips), with one the
    # FastAPI route: a body it refuses must be refused alike.
    plain = {"content-type": "application/json"}
    keyless = await intake.client.post("/v1/tips", content=body, headers=plain)
    keyed = await intake.client.post(
        "/v1/tips", content=body, headers={**plain, "Idempotency-Key": "refused-1"}
    )

    assert keyless.status_code == keyed.status_code == 422
    assert keyless.headers["content-type"] == keyed.headers["content-type"]
    assert keyless.json() == keyed.json()
    assert await intake.rows("SELECT * FROM tips") == []


async def test_a_keyless_tip_is_counted_under_its_route(intake: Any) -> None:
    labels = {"service": "intake", "method": "POST", "route": "/v1/tips", "status": "202"}
    before = REGISTRY.get_sample_value("smonth_http_requests_total", labels) or 0.0

    assert (await tip(intake)).status_code == 202
    assert REGISTRY.get_sample_value("smonth_http_requests_total", labels) == before + 1
