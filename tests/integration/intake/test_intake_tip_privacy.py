"""A tipster's name, phone and e-mail never leave intake's encrypted store: not in any message on
any topic, not in any log line, not in any error."""

import logging
import random
import uuid
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from smonth_shared.kafka import KafkaAccess

pytestmark = pytest.mark.integration


@pytest.fixture
def contact() -> dict[str, str]:
    return {
        "name": f"隐私测试人{uuid.uuid4().hex[:6]}",
        "phone": f"139{random.randrange(10**8):08d}",
        "email": f"tipster.{uuid.uuid4().hex[:10]}@example.cn",
    }


async def every_topic(kafka: KafkaAccess, *more: str) -> list[str]:
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        return sorted({t for t in await admin.list_topics() if t.startswith("smonth.")} | set(more))
    finally:
        await admin.close()


def leaks(text: str | bytes, contact: dict[str, str]) -> list[str]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return [value for value in contact.values() if value in text]


async def test_a_named_tip_leaves_no_trace_of_the_tipster_outside_the_encrypted_store(
    intake: Any, tap: Any, contact: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    topics = await every_topic(intake.settings.kafka)
    opened = await tap(topics).open()
    tip = {"province": "44", "industry": "industry_trade", "category": "major_hazard",
           "description": "某铝加工厂粉尘除尘系统长期停用，车间积尘严重", "contact": contact}  # fmt: skip
    answers = []

    created = await intake.client.post("/v1/tips", json=tip, headers={"Idempotency-Key": "t-1"})
    answers.append(
        await intake.client.post("/v1/tips", json=tip, headers={"Idempotency-Key": "t-1"})
    )
    answers.append(
        await intake.client.post("/v1/tips", json={**tip, "contact": {**contact, "email": "x@"}})
    )
    answers.append(await intake.client.post("/v1/tips", json={**tip, "province": "99"}))
    answers.append(await intake.client.post("/v1/tips", json={**tip, "description": "短"}))
    answers.append(
        await intake.client.post(
            "/v1/tips/lookup", json={"receipt_code": created.json()["receipt_code"]}
        )
    )
    answers.append(
        await intake.client.post(
            f"/v1/tips/{created.json()['tip_id']}/outcome",
            headers=intake.auth("unit", "44"),
            json={
                "status": "verified",
                "rectified": True,
                "reward_paid": True,
                "reply": "属实，已奖励",
            },
        )
    )
    answers.append(
        await intake.client.get(
            f"/v1/tips/{created.json()['tip_id']}/contact", headers=intake.auth("unit", "45")
        )
    )
    read_by_province = await intake.client.get(
        f"/v1/tips/{created.json()['tip_id']}/contact", headers=intake.auth("unit", "44")
    )
    await intake.published()
    messages = await opened.read()  # fmt: skip

    assert created.status_code == 202 and not leaks(created.text, contact)
    assert read_by_province.json()["phone"] == contact["phone"]  # the one place it may appear
    assert [a.status_code for a in answers] == [202, 422, 422, 422, 200, 202, 403]
    assert not [a.text for a in answers if leaks(a.text, contact)]
    about_the_tip = [m for m in messages if created.json()["tip_id"].encode() in (m.value or b"")]
    assert [dict(m.headers)["event-type"] for m in about_the_tip] == [
        b"tip.received",
        b"tip.resolved",
    ]
    assert not [
        (m.topic, m.offset) for m in messages
        if leaks(m.value or b"", contact) or leaks(m.key or b"", contact)
        or any(leaks(v or b"", contact) for _, v in m.headers)
    ]  # fmt: skip
    assert caplog.records
    assert not [r.getMessage() for r in caplog.records if leaks(r.getMessage(), contact)]
    assert not leaks(caplog.text, contact)
    stored = await intake.rows("SELECT response::text AS answer FROM idempotency")
    assert not [row for row in stored if leaks(row["answer"], contact)]
