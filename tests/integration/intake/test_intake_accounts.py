"""Accounts the office issues, sign-in, and ministry systems' credentials, on the real broker,
PostgreSQL and a real SMTP server: the mail a person gets is the one they act on."""

import base64
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest

from tests import polling
from tests.integration.notify.notify_support import Mailbox

pytestmark = pytest.mark.integration
Intake = Any  # tests/integration/intake/conftest.py's (a test module cannot import a conftest)

PASSWORD = "安全第一-Passw0rd"
WITHDRAWAL_WITHIN = 60.0  # the documented bound; the access list acts in a second or two


async def eventually(check: Callable[[], Awaitable[Any]], seconds: float = 30) -> Any:
    return await polling.eventually(check, within=seconds)


@pytest.fixture
async def office(start_intake: Any, mailbox: Mailbox) -> AsyncIterator[Intake]:
    async with start_intake(smtp_host=mailbox.host, smtp_port=mailbox.port,
                            public_url="https://smonth.example.cn") as intake:  # fmt: skip
        yield intake


async def link_in_mail(mailbox: Mailbox, address: str, nth: int = 1) -> str:
    async def arrived() -> list[Any]:
        return mailbox.to(address)[nth - 1 :]

    [message, *_] = await eventually(arrived)
    body = message.get_body(("plain",)).get_content()
    [token] = re.findall(r"#token=([A-Za-z0-9_-]+)", body)
    return token


async def invite(intake: Intake, email: str, unit: str | None = "44", role: str = "unit",
                 by: str = "admin") -> dict[str, Any]:  # fmt: skip
    answer = await intake.client.post("/v1/accounts", headers=intake.auth(by),  # type: ignore[arg-type]
                                      json={"email": email, "name": "李明", "role": role,
                                            "unit": unit})  # fmt: skip
    assert answer.status_code == 201, answer.text
    return answer.json()


async def activated(
    intake: Intake, mailbox: Mailbox, email: str, unit: str = "44"
) -> dict[str, Any]:
    account = await invite(intake, email, unit)
    token = await link_in_mail(mailbox, email)
    answer = await intake.client.post("/v1/auth/activate",
                                      json={"token": token, "password": PASSWORD})  # fmt: skip
    assert answer.status_code == 200, answer.text
    return account


async def sign_in(intake: Intake, email: str, password: str = PASSWORD) -> httpx.Response:
    return await intake.client.post("/v1/auth/sign-in", json={"email": email, "password": password})


def bearer(tokens: dict[str, Any]) -> dict[str, str]:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def liaison_of(email: str) -> dict[str, str]:
    return {"name": "王芳", "position": "科长", "office_phone": "020-83133000",
            "mobile": "13800138000", "email": email}  # fmt: skip


def progress(unit: str = "44") -> dict[str, Any]:
    return {"unit": unit, "as_of": "2021-06-18", "indicators": {"study_sessions": 3}}


async def refused_within(intake: Intake, headers: dict[str, str]) -> None:
    async def refused() -> bool:
        return (await intake.client.get("/v1/me", headers=headers)).status_code == 401

    await eventually(refused, WITHDRAWAL_WITHIN)


async def test_an_invited_liaison_activates_signs_in_and_acts_for_their_unit_only(
    office: Intake, mailbox: Mailbox
) -> None:
    email = f"liaison.{uuid.uuid4().hex[:6]}@gd.gov.cn"
    await activated(office, mailbox, email)

    signed_in = await sign_in(office, email)

    assert signed_in.status_code == 200, signed_in.text
    assert signed_in.headers["cache-control"] == "no-store"
    tokens = signed_in.json()
    me = (await office.client.get("/v1/me", headers=bearer(tokens))).json()
    assert (me["role"], me["unit"]) == ("unit", "44")
    own = await office.client.post("/v1/progress", json=progress("44"), headers=bearer(tokens))
    assert own.status_code == 202, own.text
    other = await office.client.post("/v1/progress", json=progress("11"), headers=bearer(tokens))
    assert other.status_code == 403
    [account] = await office.rows("SELECT status, last_sign_in FROM accounts")
    assert account["status"] == "active" and account["last_sign_in"] is not None


async def test_an_activation_link_works_once(office: Intake, mailbox: Mailbox) -> None:
    email = f"once.{uuid.uuid4().hex[:6]}@gd.gov.cn"
    await invite(office, email)
    token = await link_in_mail(mailbox, email)
    first = await office.client.post(
        "/v1/auth/activate", json={"token": token, "password": PASSWORD}
    )
    again = await office.client.post("/v1/auth/activate",
                                     json={"token": token, "password": "另一个密码-123456"})  # fmt: skip

    assert first.status_code == 200
    assert again.status_code == 400
    assert again.json()["errors"][0]["loc"] == ["token"]
    assert (await sign_in(office, email)).status_code == 200


async def test_a_short_password_is_refused_naming_the_field(
    office: Intake, mailbox: Mailbox
) -> None:
    email = f"short.{uuid.uuid4().hex[:6]}@gd.gov.cn"
    await invite(office, email)
    token = await link_in_mail(mailbox, email)

    answer = await office.client.post("/v1/auth/activate", json={"token": token, "password": "abc"})

    assert answer.status_code == 422
    [error] = answer.json()["errors"]
    assert error["loc"] == ["password"] and "10" in error["msg_zh"]


async def test_a_refresh_turns_the_refresh_token_over_and_sign_out_ends_the_session_everywhere(
    office: Intake, mailbox: Mailbox
) -> None:
    email = f"refresh.{uuid.uuid4().hex[:6]}@gd.gov.cn"
    await activated(office, mailbox, email)
    first = (await sign_in(office, email)).json()

    turned = await office.client.post("/v1/auth/refresh",
                                      json={"refresh_token": first["refresh_token"]})  # fmt: skip
    stale = await office.client.post("/v1/auth/refresh",
                                     json={"refresh_token": first["refresh_token"]})  # fmt: skip

    assert turned.status_code == 200 and stale.status_code == 401
    second = turned.json()
    assert second["refresh_token"] != first["refresh_token"]

    out = await office.client.post("/v1/auth/sign-out",
                                   json={"refresh_token": second["refresh_token"]})  # fmt: skip
    assert out.status_code == 204
    await refused_within(office, bearer(second))
    after = await office.client.post("/v1/auth/refresh",
                                     json={"refresh_token": second["refresh_token"]})  # fmt: skip
    assert after.status_code == 401


async def test_a_password_reset_by_mail_replaces_the_password_and_ends_every_session(
    office: Intake, mailbox: Mailbox
) -> None:
    email = f"reset.{uuid.uuid4().hex[:6]}@gd.gov.cn"
    await activated(office, mailbox, email)
    before = (await sign_in(office, email)).json()

    asked = await office.client.post("/v1/auth/password-reset", json={"email": email})
    unknown = await office.client.post("/v1/auth/password-reset",
                                       json={"email": "nobody@example.cn"})  # fmt: skip
    assert asked.status_code == unknown.status_code == 202
    assert asked.json() == unknown.json()  # nothing told of which addresses have accounts
    token = await link_in_mail(mailbox, email, nth=2)
    new_password = "新的密码-Reset-2021"
    confirmed = await office.client.post("/v1/auth/password-reset/confirm",
                                         json={"token": token, "password": new_password})  # fmt: skip

    assert confirmed.status_code == 200, confirmed.text
    assert (await sign_in(office, email)).status_code == 401
    assert (await sign_in(office, email, new_password)).status_code == 200
    await refused_within(office, bearer(before))
    assert len(mailbox.to("nobody@example.cn")) == 0


async def test_repeated_failures_lock_the_sign_in_with_the_time_it_lifts(
    office: Intake, mailbox: Mailbox
) -> None:
    email = f"lock.{uuid.uuid4().hex[:6]}@gd.gov.cn"
    await activated(office, mailbox, email)

    answers = [await sign_in(office, email, "wrong-password-0") for _ in range(5)]
    while_locked = await sign_in(office, email)

    assert [a.status_code for a in answers] == [401, 401, 401, 401, 429]
    assert answers[0].json()["detail_zh"] == "邮箱或密码不正确。"
    assert while_locked.status_code == 429
    problem = while_locked.json()
    assert re.search(r"请于北京时间 \d{2}:\d{2} 后再试", problem["detail_zh"])
    assert 14 * 60 < int(while_locked.headers["retry-after"]) <= 15 * 60 + 1


async def test_an_admin_withdraws_an_account_and_its_token_stops_working(
    office: Intake, mailbox: Mailbox
) -> None:
    email = f"withdrawn.{uuid.uuid4().hex[:6]}@gd.gov.cn"
    account = await activated(office, mailbox, email)
    tokens = (await sign_in(office, email)).json()

    withdrawn = await office.client.post(f"/v1/accounts/{account['id']}/withdraw",
                                         headers=office.auth("admin"))  # fmt: skip

    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    await refused_within(office, bearer(tokens))
    assert (await sign_in(office, email)).status_code == 401
    refresh = await office.client.post("/v1/auth/refresh",
                                       json={"refresh_token": tokens["refresh_token"]})  # fmt: skip
    assert refresh.status_code == 401


async def test_a_withdrawal_keeps_the_offices_reason_and_announces_only_its_kind(
    office: Intake, mailbox: Mailbox
) -> None:
    email = f"reason.{uuid.uuid4().hex[:6]}@gd.gov.cn"
    account = await activated(office, mailbox, email)
    tokens = (await sign_in(office, email)).json()

    withdrawn = await office.client.post(f"/v1/accounts/{account['id']}/withdraw",
                                         headers=office.auth("admin"),
                                         json={"reason": "调离联络员岗位"})  # fmt: skip

    assert withdrawn.status_code == 200, withdrawn.text
    await refused_within(office, bearer(tokens))
    [row] = await office.rows("SELECT withdrawn_reason FROM accounts WHERE account_id = $1",
                              account["id"])  # fmt: skip
    assert row["withdrawn_reason"] == "调离联络员岗位"
    [revoked] = [e for e in await office.events("access.revoked")
                 if e["data"]["key"] == f"sub:account:{account['id']}"]  # fmt: skip
    assert revoked["data"]["reason"] == "withdrawn"


async def test_a_replaced_liaison_can_no_longer_submit_and_the_new_one_is_invited(
    office: Intake, mailbox: Mailbox
) -> None:
    old, new = (f"{who}.{uuid.uuid4().hex[:6]}@gd.gov.cn" for who in ("old", "new"))
    await activated(office, mailbox, old)
    tokens = (await sign_in(office, old)).json()

    replaced = await office.client.put("/v1/liaisons/44", json=liaison_of(new),
                                       headers=bearer(tokens))  # fmt: skip

    assert replaced.status_code == 202, replaced.text
    await refused_within(office, bearer(tokens))
    refused = await office.client.post("/v1/progress", json=progress("44"), headers=bearer(tokens))
    assert refused.status_code == 401
    await link_in_mail(mailbox, new)
    rows = await office.rows("SELECT email, status, withdrawn_reason FROM accounts ORDER BY email")
    assert [(r["email"], r["status"], r["withdrawn_reason"]) for r in rows] == sorted(
        [(new, "invited", None), (old, "withdrawn", "liaison-replaced")]
    )


async def test_the_office_staff_issue_unit_accounts_only_and_units_see_no_accounts(
    office: Intake,
) -> None:
    staff_admin = await office.client.post(
        "/v1/accounts", headers=office.auth("staff"),
        json={"email": "boss@mem.gov.cn", "name": "张三", "role": "admin"},
    )  # fmt: skip
    unit_lists = await office.client.get("/v1/accounts", headers=office.auth("unit", "44"))
    unknown_unit = await office.client.post(
        "/v1/accounts", headers=office.auth("staff"),
        json={"email": "x@example.cn", "name": "张三", "unit": "00"},
    )  # fmt: skip

    assert staff_admin.status_code == 403
    assert unit_lists.status_code == 403
    assert unknown_unit.status_code == 422
    assert unknown_unit.json()["errors"][0]["loc"] == ["unit"]


async def register_system(intake: Intake, units: list[str]) -> tuple[str, str]:
    client_id = f"sys-{uuid.uuid4().hex[:8]}"
    answer = await intake.client.post("/v1/clients", headers=intake.auth("admin"),
                                      json={"client_id": client_id, "name": "应急管理信息系统",
                                            "units": units})  # fmt: skip
    assert answer.status_code == 201, answer.text
    return client_id, answer.json()["client_secret"]


async def client_token(intake: Intake, client_id: str, secret: str) -> httpx.Response:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return await intake.client.post(
        "/v1/oauth/token", content="grant_type=client_credentials",
        headers={"Authorization": f"Basic {basic}",
                 "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip


async def test_a_ministry_system_gets_a_token_and_acts_only_for_its_units(office: Intake) -> None:
    client_id, secret = await register_system(office, ["44", "45"])

    granted = await client_token(office, client_id, secret)
    wrong = await client_token(office, client_id, "not-the-secret")

    assert granted.status_code == 200, granted.text
    assert wrong.status_code == 401 and wrong.json()["error"] == "invalid_client"
    headers = bearer(granted.json())
    allowed = await office.client.post("/v1/progress", json=progress("45"), headers=headers)
    other = await office.client.post("/v1/progress", json=progress("11"), headers=headers)
    assert allowed.status_code == 202, allowed.text
    assert other.status_code == 403 and "未获授权" in other.json()["detail_zh"]


async def test_a_systems_units_changed_take_effect_with_its_next_token(office: Intake) -> None:
    client_id, secret = await register_system(office, ["44"])
    before = bearer((await client_token(office, client_id, secret)).json())
    refused = await office.client.post("/v1/progress", json=progress("45"), headers=before)
    assert refused.status_code == 403

    changed = await office.client.put(f"/v1/clients/{client_id}/units",
                                      json={"units": ["45", "44", "45"]},
                                      headers=office.auth("admin"))  # fmt: skip

    # Asked for at once, most often in the second of the change, whose tokens are refused.
    after = bearer((await client_token(office, client_id, secret)).json())
    assert changed.status_code == 200, changed.text
    assert changed.json()["units"] == ["44", "45"]
    await refused_within(office, before)  # a token names the units it was issued for
    allowed = await office.client.post("/v1/progress", json=progress("45"), headers=after)
    assert allowed.status_code == 202, allowed.text


async def test_a_systems_units_are_refused_naming_the_rule(office: Intake) -> None:
    client_id, _ = await register_system(office, ["44"])
    admin = office.auth("admin")
    unknown = await office.client.put(f"/v1/clients/{client_id}/units",
                                      json={"units": ["44", "Z99"]}, headers=admin)  # fmt: skip
    empty = await office.client.put(f"/v1/clients/{client_id}/units", json={"units": []},
                                    headers=admin)  # fmt: skip
    nobody = await office.client.put("/v1/clients/no-such-system/units",
                                     json={"units": ["44"]}, headers=admin)  # fmt: skip
    await office.client.post(f"/v1/clients/{client_id}/withdraw", headers=admin)
    withdrawn = await office.client.put(f"/v1/clients/{client_id}/units",
                                        json={"units": ["45"]}, headers=admin)  # fmt: skip

    assert unknown.status_code == 422 and "Z99" in unknown.json()["detail_zh"]
    assert [e["loc"] for e in unknown.json()["errors"]] == [["units"]]
    assert empty.status_code == 422 and empty.json()["errors"][0]["loc"] == ["units"]
    assert nobody.status_code == 404 and withdrawn.status_code == 409
    assert "已停用" in withdrawn.json()["detail_zh"]


async def test_a_withdrawn_system_is_refused(office: Intake) -> None:
    client_id, secret = await register_system(office, ["44"])
    headers = bearer((await client_token(office, client_id, secret)).json())

    withdrawn = await office.client.post(f"/v1/clients/{client_id}/withdraw",
                                         headers=office.auth("admin"))  # fmt: skip

    assert withdrawn.status_code == 200
    await refused_within(office, headers)
    assert (await client_token(office, client_id, secret)).status_code == 401


async def test_no_password_refresh_token_or_client_secret_reaches_a_log_line_or_an_event(
    office: Intake, mailbox: Mailbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    email = f"secrets.{uuid.uuid4().hex[:6]}@gd.gov.cn"
    await activated(office, mailbox, email)
    tokens = (await sign_in(office, email)).json()
    await sign_in(office, email, "a-wrong-password-typed")
    await office.client.post("/v1/auth/sign-out", json={"refresh_token": tokens["refresh_token"]})
    client_id, secret = await register_system(office, ["44"])
    await client_token(office, client_id, secret)
    await office.published()

    secrets_given = [PASSWORD, "a-wrong-password-typed", tokens["refresh_token"], secret]
    events = [str(event) for event in await office.events()]
    stored = [str(dict(row)) for row in await office.rows("SELECT * FROM accounts")]
    for text in (caplog.text, *events, *stored):
        assert not [s for s in secrets_given if s in text]
