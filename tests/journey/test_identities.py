"""Who may act, across the running services: an account the office withdraws stops working on
every service, not only on intake, which withdrew it (each follows the access topic on its own);
signed-in accounts and ministry systems get on every service what their role allows; a ministry
system registered from the command line acts for its units only."""

import time
import uuid
from typing import Any

import httpx
import pytest
from cryptography.fernet import Fernet
from typer.testing import CliRunner

from safety_month.cli import app
from safety_month.demo.liaisons import activation_link
from tests.polling import eventually_blocking

RunningSystem = Any  # the `running_system` fixture of conftest.py

pytestmark = [pytest.mark.integration, pytest.mark.journey]

# README, "Who may act": a withdrawal takes effect on every service within a minute at most.
WITHDRAWAL_WITHIN = 60.0
PASSWORD = "六月安全-Passw0rd"
# What the office's staff may read on each service.
READS = {"intake": "/v1/me", "exposure": "/v1/compliance?campaign=2021",
         "notify": "/v1/reminders", "reports": "/v1/national-summary?campaign=2021"}  # fmt: skip


def test_a_withdrawn_account_is_refused_by_all_four_services_within_the_documented_time(
    running_system: RunningSystem,
) -> None:
    system = running_system
    account, staff = signed_in(system, "staff", None)
    for service, path in READS.items():
        answer = httpx.get(f"{system.url(service)}{path}", headers=staff, timeout=30)
        assert answer.status_code == 200, f"{service}: {answer.text}"

    withdrawn = httpx.post(f"{system.url('intake')}/v1/accounts/{account['id']}/withdraw",
                           headers=system.auth("admin"), json={"reason": "调离工作岗位"})  # fmt: skip
    assert withdrawn.status_code == 200, withdrawn.text
    took = _until_refused(system, staff)

    assert max(took.values()) < WITHDRAWAL_WITHIN, took


# The new identities on the other services' routes (intake's own are in the integration access
# matrix): the answers to a signed-in liaison of 44, a signed-in staff member, a ministry system
# registered for 44 (client credentials) and a withdrawn account.
IDENTITIES = ("liaison", "staff", "system", "withdrawn")
NOTHING = "00000000-0000-4000-8000-000000000000"  # no case, no publication
ROUTES: dict[str, tuple[int, int, int, int]] = {
    "exposure GET /v1/cases?province=44": (200, 200, 403, 401),
    "exposure GET /v1/cases?province=45": (403, 200, 403, 401),
    f"exposure POST /v1/cases/{NOTHING}/rejection": (403, 404, 403, 401),
    "exposure GET /v1/compliance": (200, 200, 403, 401),
    "notify GET /v1/reminders?unit=44": (200, 200, 403, 401),
    "notify GET /v1/reminders?unit=45": (403, 200, 403, 401),
    "notify GET /v1/standings/44": (200, 200, 403, 401),
    "notify GET /v1/standings/45": (403, 200, 403, 401),
    "reports GET /v1/national-summary": (403, 200, 403, 401),
    "reports POST /v1/national-summary/publications": (403, 202, 403, 401),
    "reports GET /v1/publications": (403, 200, 200, 401),
    f"reports GET /v1/publications/{NOTHING}/national-summary.json": (403, 404, 404, 401),
}


@pytest.fixture(scope="module")
def identities(running_system: RunningSystem) -> dict[str, dict[str, str]]:
    system = running_system
    gone, withdrawn = signed_in(system, "staff", None)
    answer = httpx.post(f"{system.url('intake')}/v1/accounts/{gone['id']}/withdraw",
                        headers=system.auth("admin"))  # fmt: skip
    assert answer.status_code == 200, answer.text
    _until_refused(system, withdrawn)
    return {"liaison": signed_in(system, "unit", "44")[1],
            "staff": signed_in(system, "staff", None)[1],
            "system": client_credentials(system, ["44"]), "withdrawn": withdrawn}  # fmt: skip


@pytest.mark.parametrize("route", list(ROUTES))
def test_each_new_identity_gets_what_the_contract_allows_it_on_every_service(
    running_system: RunningSystem, identities: dict[str, dict[str, str]], route: str
) -> None:
    service, method, path = route.split(" ")
    body = {"reason": "不属于典型案例"} if path.endswith("/rejection") else None
    answers = {
        identity: httpx.request(method, f"{running_system.url(service)}{path}", json=body,
                                headers=identities[identity], timeout=30).status_code
        for identity in IDENTITIES
    }  # fmt: skip

    assert answers == dict(zip(IDENTITIES, ROUTES[route], strict=True))


def client_credentials(system: RunningSystem, units: list[str]) -> dict[str, str]:
    """A ministry system registered by an admin, with a token by the client-credentials grant."""
    intake = system.url("intake")
    client_id = f"sys-{uuid.uuid4().hex[:8]}"
    registered = httpx.post(f"{intake}/v1/clients", headers=system.auth("admin"),
                            json={"client_id": client_id, "name": "统计报送系统", "units": units})  # fmt: skip
    assert registered.status_code == 201, registered.text
    granted = httpx.post(f"{intake}/v1/oauth/token", data={"grant_type": "client_credentials"},
                         auth=(client_id, registered.json()["client_secret"]))  # fmt: skip
    assert granted.status_code == 200, granted.text
    return {"Authorization": f"Bearer {granted.json()['access_token']}"}


def signed_in(
    system: RunningSystem, role: str, unit: str | None
) -> tuple[dict[str, Any], dict[str, str]]:
    """An account the office issues, taken up from the mail's link and signed in with: the
    account and the headers its access token goes in."""
    intake = system.url("intake")
    email = f"{role}.{uuid.uuid4().hex[:8]}@example.gov.cn"
    issued = httpx.post(f"{intake}/v1/accounts", headers=system.auth("admin"),
                        json={"email": email, "name": "赵敏", "role": role, "unit": unit})  # fmt: skip
    assert issued.status_code == 201, issued.text
    link = eventually_blocking(lambda: activation_link(system.mail.mails_to(email)))
    activated = httpx.post(f"{intake}/v1/auth/activate",
                           json={"token": link, "password": PASSWORD})  # fmt: skip
    assert activated.status_code == 200, activated.text
    answer = httpx.post(f"{intake}/v1/auth/sign-in", json={"email": email, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return issued.json(), {"Authorization": f"Bearer {answer.json()['access_token']}"}


def _until_refused(system: RunningSystem, headers: dict[str, str]) -> dict[str, float]:
    """Asks each service until it refuses the token as withdrawn; how long each took, in seconds
    after the withdrawal's answer (at most: a service is asked once the one before refused)."""
    started = time.monotonic()
    took: dict[str, float] = {}

    def refused(service: str) -> bool:
        answer = httpx.get(f"{system.url(service)}{READS[service]}", headers=headers, timeout=30)
        if answer.status_code == 401:
            assert "withdrawn" in answer.json()["detail"], answer.text
            return True
        assert answer.status_code == 200, f"{service}: {answer.text}"
        return False

    for service in READS:
        left = WITHDRAWAL_WITHIN - (time.monotonic() - started)
        try:
            eventually_blocking(lambda s=service: refused(s), timeout=max(left, 0.0),
                                interval=0.05, what=f"{service} refuses the withdrawn token")  # fmt: skip
        except AssertionError as late:
            raise AssertionError(f"{late}\n{system.recent_logs(service, 10)}") from None
        took[service] = time.monotonic() - started
    return took


def test_a_system_registered_from_the_command_line_acts_for_its_units_only(
    running_system: RunningSystem, monkeypatch: pytest.MonkeyPatch
) -> None:
    system = running_system
    # The deployment's secrets, as `safety-month` reads them (and keeps none on disk).
    monkeypatch.setenv("SAFETY_MONTH_JWT_SECRET", system.jwt_secret)
    monkeypatch.setenv("TIP_CONTACT_KEY", Fernet.generate_key().decode())
    client_id = f"sys-{uuid.uuid4().hex[:8]}"
    register = ["systems", "register", "--client-id", client_id, "--name", "应急管理部统计报送系统",
                "--unit", "44", "--unit", "45", "--intake-url", system.url("intake")]  # fmt: skip

    printed = CliRunner().invoke(app, register)

    assert printed.exit_code == 0, printed.output
    credentials = dict(line.split("=", 1) for line in printed.stdout.splitlines() if "=" in line)
    assert credentials["client_id"] == client_id and credentials["units"] == "44,45"
    granted = httpx.post(f"{system.url('intake')}/v1/oauth/token",
                         auth=(client_id, credentials["client_secret"]),
                         data={"grant_type": "client_credentials"})  # fmt: skip
    assert granted.status_code == 200, granted.text
    bearer = {"Authorization": f"Bearer {granted.json()['access_token']}"}
    me = httpx.get(f"{system.url('intake')}/v1/me", headers=bearer)
    assert me.json()["role"] == "system" and me.json()["units"] == ["44", "45"]
    other_unit = httpx.post(f"{system.url('intake')}/v1/progress", headers=bearer, json={
        "unit": "46", "as_of": "2021-06-15", "indicators": {"drills": 1}})  # fmt: skip
    assert other_unit.status_code == 403, other_unit.text

    again = CliRunner().invoke(app, register)
    assert again.exit_code == 1 and "registered already" in again.output
    assert credentials["client_secret"] not in again.output
