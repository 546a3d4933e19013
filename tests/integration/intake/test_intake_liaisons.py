"""The liaison of each unit (attachment 2): exactly one active, history kept, numbers checked."""

from typing import Any

import pytest

pytestmark = pytest.mark.integration

LIAISON = {
    "name": "李辉", "position": "宣教处副处长", "office_phone": "010-64463407",
    "mobile": "13800138000", "email": "anquanyue@qq.com",
}  # fmt: skip


async def designate(intake: Any, unit: str = "44", **changes: Any) -> Any:
    return await intake.client.put(
        f"/v1/liaisons/{unit}", json={**LIAISON, **changes}, headers=intake.auth("unit", unit)
    )


async def test_a_liaison_is_designated_and_announced(intake: Any) -> None:
    answer = await designate(intake)

    assert answer.status_code == 202 and answer.json()["status"] == "designated"
    (event,) = await intake.events("liaison.designated")
    assert event["subject"] == "44"
    assert {k: event["data"][k] for k in LIAISON} == LIAISON


async def test_a_new_designation_replaces_the_old_one_and_history_is_kept(intake: Any) -> None:
    first = await designate(intake)
    second = await designate(intake, name="田静", mobile="13900139000")

    rows = await intake.rows(
        "SELECT liaison_id, name, replaced_at FROM liaisons WHERE unit = '44' ORDER BY designated_at"
    )
    assert [r["name"] for r in rows] == ["李辉", "田静"]
    assert [r["replaced_at"] is None for r in rows] == [False, True]
    assert str(rows[1]["liaison_id"]) == second.json()["id"] != first.json()["id"]
    assert len(await intake.events("liaison.designated")) == 2


async def test_designating_the_same_liaison_again_changes_nothing(intake: Any) -> None:
    first = await designate(intake)

    again = await designate(intake)

    assert again.status_code == 202 and again.json() == {**first.json(), "status": "unchanged"}
    assert len(await intake.rows("SELECT 1 FROM liaisons")) == 1
    assert len(await intake.events("liaison.designated")) == 1


async def test_exactly_one_liaison_is_active_under_concurrent_designations(intake: Any) -> None:
    import asyncio

    names = ["张佳", "田静", "李辉", "王强"]
    await asyncio.gather(*(designate(intake, name=name) for name in names))

    active = await intake.rows("SELECT 1 FROM liaisons WHERE unit = '44' AND replaced_at IS NULL")
    assert len(active) == 1


@pytest.mark.parametrize(
    ("field", "value", "chinese"),
    [("mobile", "1380013800", "11位手机号码"), ("office_phone", "64463407", "带区号"),
     ("email", "anquanyue.qq.com", "电子邮箱")],
)  # fmt: skip
async def test_a_malformed_number_or_address_is_refused_naming_the_field_in_both_languages(
    intake: Any, field: str, value: str, chinese: str
) -> None:
    answer = await designate(intake, **{field: value})

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["errors"][0]["loc"] == [field]
    assert chinese in answer.json()["errors"][0]["msg_zh"] and chinese in answer.json()["detail_zh"]


async def test_a_unit_cannot_designate_another_units_liaison(intake: Any) -> None:
    answer = await intake.client.put(
        "/v1/liaisons/45", json=LIAISON, headers=intake.auth("unit", "44")
    )

    assert answer.status_code == 403


async def test_a_ministry_system_designates_for_a_unit(intake: Any) -> None:
    answer = await intake.client.put(
        "/v1/liaisons/E001", json=LIAISON, headers=intake.auth("system")
    )

    assert answer.status_code == 202


async def test_a_unit_not_in_the_registry_gets_no_liaison(intake: Any) -> None:
    answer = await intake.client.put(
        "/v1/liaisons/E999", json=LIAISON, headers=intake.auth("system")
    )

    assert answer.status_code == 422 and "E999" in answer.json()["detail"]
