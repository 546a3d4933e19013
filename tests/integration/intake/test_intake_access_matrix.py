"""Who may do what: every role against every endpoint (CONTRACT.md, "Roles").

A unit acts only for its own unit; staff (the office) submit nothing; a ministry system and an
admin act for any unit; tips are public; a tipster's contact is for the tip's province only.
"""

import re
import uuid
from typing import Any

import pytest

from smonth_shared.auth import issue_token
from tests.integration.notify.notify_support import Mailbox
from tests.polling import eventually

pytestmark = pytest.mark.integration

# The tokens an operator mints (`safety-month token`) and those of the new identities: an
# account signed in (a unit's liaison, a staff member), one withdrawn since, and ministry
# systems by the client-credentials grant, registered for unit 44 or for another unit only.
ROLES = ["none", "bad", "expired", "unit-own", "unit-other", "staff", "system", "admin",
         "account-own", "account-staff", "withdrawn", "client-own", "client-other"]  # fmt: skip
UNAUTHENTICATED = {"none", "bad", "expired", "withdrawn"}
SIGNED_IN = set(ROLES) - UNAUTHENTICATED
OFFICE = {"staff", "account-staff", "admin"}


def only(allowed: set[str], ok: int) -> dict[str, int]:
    """`ok` for the roles allowed, 403 for the other signed-in ones, 401 without a valid token."""
    return {role: 401 if role in UNAUTHENTICATED else ok if role in allowed else 403
            for role in ROLES}  # fmt: skip


ACT_FOR_A_UNIT = only({"unit-own", "account-own", "system", "client-own", "admin"}, 202)
PUBLIC = dict.fromkeys(ROLES, 202)
EXPECTED: dict[str, dict[str, int]] = {
    "POST /v1/progress": ACT_FOR_A_UNIT,
    "POST /v1/summary-reports": ACT_FOR_A_UNIT,
    "PUT /v1/liaisons/44": ACT_FOR_A_UNIT,
    "POST /v1/materials": only({"unit-own", "account-own", "admin"}, 202),
    "POST /v1/cases": ACT_FOR_A_UNIT,
    "POST /v1/tips": PUBLIC,
    "POST /v1/tips/lookup": dict.fromkeys(ROLES, 200),
    "GET /v1/summary-reports/44": only(SIGNED_IN - {"unit-other", "client-other"}, 200),
    "GET /v1/tips/{tip}/contact": only({"unit-own", "account-own"}, 200),
    "POST /v1/tips/{tip}/outcome": ACT_FOR_A_UNIT,
    "POST /v1/units/import": only({"admin"}, 202),
    "GET /v1/me": only(SIGNED_IN, 200),
    "GET /v1/accounts": only(OFFICE, 200),
    "POST /v1/accounts": only(OFFICE, 201),
    "POST /v1/accounts/{account}/withdraw": only(OFFICE, 200),
    "POST /v1/accounts/{account}/invitation": only(OFFICE, 202),
    "GET /v1/clients": only({"admin"}, 200),
    "POST /v1/clients": only({"admin"}, 201),
    "POST /v1/clients/{client}/secret": only({"admin"}, 200),
    "POST /v1/clients/{client}/withdraw": only({"admin"}, 200),
    "PUT /v1/clients/{client}/units": only({"admin"}, 200),
}
TIP = {"province": "44", "industry": "construction", "category": "violation",
       "description": "工地塔吊司机无证上岗", "contact": {"phone": "13912345678"}}  # fmt: skip


LIAISON = "liaison@gd.gov.cn"  # the account-own's address: the liaison PUT below names it
PASSWORD = "安全生产-Passw0rd"


@pytest.fixture(scope="module")
async def identities(module_intake: Any, module_mailbox: Mailbox) -> dict[str, str]:
    """The tokens of the new identities, got as their holders get them."""
    intake, mailbox = module_intake, module_mailbox
    staff = f"staff.{uuid.uuid4().hex[:8]}@example.gov.cn"
    tokens = {"account-own": (await signed_in(intake, mailbox, LIAISON, "unit", "44"))["access_token"],
              "account-staff": (await signed_in(intake, mailbox, staff, "staff", None))["access_token"]}  # fmt: skip
    gone = await signed_in(
        intake, mailbox, f"gone.{uuid.uuid4().hex[:8]}@example.gov.cn", "unit", "44"
    )
    tokens["withdrawn"] = gone["access_token"]
    answer = await intake.client.post(f"/v1/accounts/{gone['account']['id']}/withdraw",
                                      headers=intake.auth("admin"))  # fmt: skip
    assert answer.status_code == 200, answer.text

    # Refused once intake has read the withdrawal back from the access topic.
    async def refused() -> bool:
        headers = {"Authorization": f"Bearer {gone['access_token']}"}
        return (await intake.client.get("/v1/me", headers=headers)).status_code == 401

    await eventually(refused, within=60, what="intake refuses the withdrawn account's token")
    for role, unit in (("client-own", "44"), ("client-other", "45")):
        tokens[role] = await client_token(intake, [unit])
    return tokens


async def signed_in(intake: Any, mailbox: Mailbox, email: str, role: str,
                    unit: str | None) -> dict[str, Any]:  # fmt: skip
    """Issued by an admin, activated from the mail's link, signed in: the sign-in's answer."""
    answer = await intake.client.post("/v1/accounts", headers=intake.auth("admin"), json={
        "email": email, "name": "李辉", "role": role, "unit": unit})  # fmt: skip
    assert answer.status_code == 201, answer.text
    await mailbox.mail_to(email)
    [mail] = mailbox.to(email)
    body = mail.get_body(("plain",))
    assert body is not None
    [link] = re.findall(r"#token=([A-Za-z0-9_-]+)", body.get_content())
    answer = await intake.client.post(
        "/v1/auth/activate", json={"token": link, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    answer = await intake.client.post(
        "/v1/auth/sign-in", json={"email": email, "password": PASSWORD}
    )
    assert answer.status_code == 200, answer.text
    return answer.json()


async def client_token(intake: Any, units: list[str]) -> str:
    client_id = f"sys-{uuid.uuid4().hex[:8]}"
    answer = await intake.client.post("/v1/clients", headers=intake.auth("admin"), json={
        "client_id": client_id, "name": "统计报送系统", "units": units})  # fmt: skip
    assert answer.status_code == 201, answer.text
    answer = await intake.client.post("/v1/oauth/token", auth=(client_id, answer.json()["client_secret"]),
                                      data={"grant_type": "client_credentials"})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return answer.json()["access_token"]


def headers_of(intake: Any, identities: dict[str, str], role: str) -> dict[str, str]:
    tokens = {
        **identities,
        "bad": issue_token("another-secret-" + "x" * 32, role="admin"),
        "expired": intake.token("unit", "44", expired=True),
        "unit-own": intake.token("unit", "44"),
        "unit-other": intake.token("unit", "45"),
        "staff": intake.token("staff"),
        "system": intake.token("system"),
        "admin": intake.token("admin"),
    }
    return {"Authorization": f"Bearer {tokens[role]}"} if role in tokens else {}


async def request_for(intake: Any, endpoint: str) -> tuple[str, str, dict[str, Any]]:
    """The request, with a tip, an account or a client of its own made first where it names one."""
    tip = (await intake.client.post("/v1/tips", json=TIP)).json()
    method, path = endpoint.split(" ")
    path = path.replace("{tip}", tip["tip_id"])
    if "{account}" in path:
        answer = await intake.client.post("/v1/accounts", headers=intake.auth("admin"), json={
            "email": f"invited.{uuid.uuid4().hex[:8]}@example.gov.cn", "name": "张伟",
            "role": "unit", "unit": "45"})  # fmt: skip
        path = path.replace("{account}", answer.json()["id"])
    if "{client}" in path:
        answer = await intake.client.post("/v1/clients", headers=intake.auth("admin"), json={
            "client_id": f"sys-{uuid.uuid4().hex[:8]}", "name": "报送系统", "units": ["45"]})  # fmt: skip
        path = path.replace("{client}", answer.json()["client_id"])
    bodies: dict[str, dict[str, Any]] = {
        "/v1/progress": {"json": {"unit": "44", "as_of": "2021-06-15",
                                  "indicators": {"drills": 1}}},
        "/v1/summary-reports": {"json": {"unit": "44", "title": "总结", "body": "正文"}},
        "/v1/liaisons/44": {"json": {"name": "李辉", "position": "处长",
                                     "office_phone": "020-12345678", "mobile": "13800138000",
                                     "email": LIAISON}},
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
        "/v1/accounts": {"json": {"email": f"new.{uuid.uuid4().hex[:8]}@example.gov.cn",
                                  "name": "陈静", "role": "unit", "unit": "45"}},
        "/v1/clients": {"json": {"client_id": f"sys-{uuid.uuid4().hex[:8]}", "name": "报送系统",
                                 "units": ["45"]}},
    }  # fmt: skip
    if path == "/v1/summary-reports/44":  # something to read, whoever sent it
        sent = await intake.client.post("/v1/summary-reports", headers=intake.auth("admin"),
                                        json=bodies["/v1/summary-reports"]["json"])  # fmt: skip
        assert sent.status_code == 202, sent.text
    if method == "GET":
        return method, path, {}
    if path.endswith("/units"):
        return method, path, {"json": {"units": ["44", "45"]}}
    return method, path, bodies.get(path, {"json": {}} if "withdraw" in path else {})


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("endpoint", list(EXPECTED))
async def test_each_role_gets_what_the_contract_allows_it(
    module_intake: Any, identities: dict[str, str], endpoint: str, role: str
) -> None:
    method, path, keywords = await request_for(module_intake, endpoint)
    headers = {**headers_of(module_intake, identities, role), **keywords.pop("headers", {})}

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
