"""Who may do what: every role against every endpoint (CONTRACT.md, "Roles").

A unit acts only for its own unit; staff (the office) submit nothing; a ministry system and an
admin act for any unit; tips are public; a tipster's contact is for the tip's province only.
"""

import uuid
from typing import Any

import pytest

from smonth_shared.auth import issue_token

pytestmark = pytest.mark.integration

ROLES = ["none", "bad", "expired", "unit-own", "unit-other", "staff", "system", "admin"]
ACT_FOR_A_UNIT = {"none": 401, "bad": 401, "expired": 401, "unit-own": 202, "unit-other": 403,
                  "staff": 403, "system": 202, "admin": 202}  # fmt: skip
PUBLIC = dict.fromkeys(ROLES, 202)
EXPECTED: dict[str, dict[str, int]] = {
    "POST /v1/progress": ACT_FOR_A_UNIT,
    "POST /v1/summary-reports": ACT_FOR_A_UNIT,
    "PUT /v1/liaisons/44": ACT_FOR_A_UNIT,
    "POST /v1/materials": {**ACT_FOR_A_UNIT, "system": 403},
    "POST /v1/cases": ACT_FOR_A_UNIT,
    "POST /v1/tips": PUBLIC,
    "POST /v1/tips/lookup": dict.fromkeys(ROLES, 200),
    "GET /v1/tips/{tip}/contact": {
        **ACT_FOR_A_UNIT,
        "unit-own": 200,
        "system": 403,
        "admin": 403,
    },
    "POST /v1/tips/{tip}/outcome": ACT_FOR_A_UNIT,
    "POST /v1/units/import": {**ACT_FOR_A_UNIT, "unit-own": 403, "system": 403},
}
TIP = {"province": "44", "industry": "construction", "category": "violation",
       "description": "工地塔吊司机无证上岗", "contact": {"phone": "13912345678"}}  # fmt: skip


def headers_of(intake: Any, role: str) -> dict[str, str]:
    tokens = {
        "bad": issue_token("another-secret-" + "x" * 32, role="admin"),
        "expired": intake.token("unit", "44", expired=True),
        "unit-own": intake.token("unit", "44"),
        "unit-other": intake.token("unit", "45"),
        "staff": intake.token("staff"),
        "system": intake.token("system"),
        "admin": intake.token("admin"),
    }
    return {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else {}


def request_for(endpoint: str, tip: dict[str, str]) -> tuple[str, str, dict[str, Any]]:
    method, path = endpoint.split(" ")
    path = path.replace("{tip}", tip["tip_id"])
    bodies: dict[str, dict[str, Any]] = {
        "/v1/progress": {"json": {"unit": "44", "as_of": "2021-06-15",
                                  "indicators": {"drills": 1}}},
        "/v1/summary-reports": {"json": {"unit": "44", "title": "总结", "body": "正文"}},
        "/v1/liaisons/44": {"json": {"name": "李辉", "position": "处长",
                                     "office_phone": "020-12345678", "mobile": "13800138000",
                                     "email": "liaison@gd.gov.cn"}},
        "/v1/materials": {"data": {"unit": "44", "kind": "practice", "title": "做法"}},
        "/v1/cases": {"json": {"province": "44", "title": "案例", "industry": "construction",
                               "enterprise": "某建筑公司", "summary": "经过", "media_outlet": "南方日报",
                               "published_on": "2021-06-18",
                               "url": f"https://example.cn/{uuid.uuid4()}"}},
        "/v1/tips": {"json": TIP},
        "/v1/tips/lookup": {"json": {"receipt_code": tip["receipt_code"]}},
        f"/v1/tips/{tip['tip_id']}/outcome": {"json": {"status": "unfounded", "rectified": False,
                                                       "reward_paid": False, "reply": "经核查不属实"}},
        "/v1/units/import": {"content": "code,name,kind,province\nM40,国家消防救援局,ministry,\n"
                             .encode(), "headers": {"content-type": "text/csv"}},
    }  # fmt: skip
    return method, path, bodies.get(path, {})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(EXPECTED))
async def test_each_role_gets_what_the_contract_allows_it(
    module_intake: Any, endpoint: str, role: str
) -> None:
    tip = (await module_intake.client.post("/v1/tips", json=TIP)).json()
    method, path, keywords = request_for(endpoint, tip)
    headers = {**headers_of(module_intake, role), **keywords.pop("headers", {})}

    answer = await module_intake.client.request(method, path, headers=headers, **keywords)

    assert answer.status_code == EXPECTED[endpoint][role], answer.text
    if answer.status_code in (401, 403):
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["detail"] and answer.json()["detail_zh"]
    if answer.status_code != 200 or "contact" not in path:
        assert "13912345678" not in answer.text


async def test_a_refused_unit_is_told_which_unit_it_may_act_for(module_intake: Any) -> None:
    answer = await module_intake.client.post(
        "/v1/progress", json={"unit": "45", "as_of": "2021-06-15", "indicators": {"drills": 1}},
        headers=module_intake.auth("unit", "44"),
    )  # fmt: skip

    assert answer.status_code == 403
    assert "own unit (44)" in answer.json()["detail"] and "45" in answer.json()["detail"]
    assert "本单位（44）" in answer.json()["detail_zh"]


async def test_an_expired_token_is_told_so(module_intake: Any) -> None:
    answer = await module_intake.client.post(
        "/v1/progress", json={"unit": "44", "as_of": "2021-06-15", "indicators": {"drills": 1}},
        headers={"Authorization": f"Bearer {module_intake.token('unit', '44', expired=True)}"},
    )  # fmt: skip

    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    assert answer.headers["www-authenticate"].startswith("Bearer")
