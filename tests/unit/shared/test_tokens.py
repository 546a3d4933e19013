"""Bearer tokens and who may act for whom."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import httpx
import jwt
import pytest
from fastapi import Depends, FastAPI

from smonth_shared.auth import (
    Principal,
    TokenVerifier,
    decode_token,
    forbid_other_unit,
    issue_token,
    requires,
)
from smonth_shared.problems import PROBLEM_JSON, Problem, install_problem_handlers

OTHER_SECRET = "another-secret-0123456789abcdef012345"


def _refusal(secret: str, token: str) -> Problem:
    with pytest.raises(Problem) as refused:
        decode_token(secret, token)
    return refused.value


def test_a_unit_token_decodes_to_its_unit(jwt_secret: str) -> None:
    token = issue_token(jwt_secret, role="unit", unit="44")

    principal = decode_token(jwt_secret, token)

    assert (principal.sub, principal.role, principal.unit) == ("unit:44", "unit", "44")


@pytest.mark.parametrize("role", ["staff", "system", "admin"])
def test_other_roles_decode_without_a_unit(jwt_secret: str, role: str) -> None:
    token = issue_token(jwt_secret, role=role, sub=f"{role}-1")  # type: ignore[arg-type]

    principal = decode_token(jwt_secret, token)

    assert (principal.sub, principal.role, principal.unit) == (f"{role}-1", role, None)


def test_an_expired_token_is_refused_with_401(jwt_secret: str) -> None:
    token = issue_token(
        jwt_secret, role="staff", ttl=timedelta(hours=1),
        now=datetime.now(UTC) - timedelta(hours=2),
    )  # fmt: skip

    refusal = _refusal(jwt_secret, token)

    assert refusal.status == 401
    assert "expired" in refusal.detail
    assert refusal.headers == {"WWW-Authenticate": 'Bearer realm="safety-month"'}


def test_a_token_signed_with_another_secret_is_refused_with_401(jwt_secret: str) -> None:
    token = issue_token(OTHER_SECRET, role="admin")

    assert _refusal(jwt_secret, token).status == 401


def test_garbage_is_refused_with_401(jwt_secret: str) -> None:
    assert _refusal(jwt_secret, "not.a.token").status == 401


def test_a_unit_token_without_a_unit_is_neither_issued_nor_accepted(jwt_secret: str) -> None:
    with pytest.raises(ValueError, match="unit"):
        issue_token(jwt_secret, role="unit")
    forged = jwt.encode(
        {"sub": "unit:?", "role": "unit", "exp": datetime.now(UTC) + timedelta(hours=1)},
        jwt_secret, algorithm="HS256",
    )  # fmt: skip

    assert _refusal(jwt_secret, forged).status == 401


def test_a_token_with_an_unknown_role_is_refused(jwt_secret: str) -> None:
    forged = jwt.encode(
        {"sub": "root", "role": "root", "exp": datetime.now(UTC) + timedelta(hours=1)},
        jwt_secret, algorithm="HS256",
    )  # fmt: skip

    assert _refusal(jwt_secret, forged).status == 401


def test_a_token_without_an_expiry_is_refused(jwt_secret: str) -> None:
    forged = jwt.encode({"sub": "staff", "role": "staff"}, jwt_secret, algorithm="HS256")

    assert _refusal(jwt_secret, forged).status == 401


def test_a_unit_acts_only_for_itself_and_the_others_for_any_unit() -> None:
    unit = Principal(sub="unit:44", role="unit", unit="44")

    assert unit.may_act_for("44")
    assert not unit.may_act_for("45")
    for role in ("staff", "system", "admin"):
        assert Principal(sub=role, role=role, unit=None).may_act_for("45")  # type: ignore[arg-type]


def test_acting_for_another_unit_is_forbidden_with_403() -> None:
    unit = Principal(sub="unit:44", role="unit", unit="44")

    forbid_other_unit(unit, "44")
    with pytest.raises(Problem) as refused:
        forbid_other_unit(unit, "45", field="province")

    assert refused.value.status == 403
    assert "province 45" in refused.value.detail


def _app(secret: str) -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/office")
    async def office(
        principal: Annotated[Principal, Depends(requires(TokenVerifier(secret), "staff"))],
    ) -> dict:
        return {"sub": principal.sub}

    return app


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Basic abc", 401), ("Bearer ", 401), ("Bearer nonsense", 401)],
)
async def test_a_route_requiring_a_role_refuses_callers_without_a_valid_token(
    jwt_secret: str, authorization: str | None, status: int
) -> None:
    headers = {"Authorization": authorization} if authorization else {}
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app(jwt_secret)), base_url="http://test"
    ) as client:
        response = await client.get("/office", headers=headers)

    assert response.status_code == status
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["www-authenticate"] == 'Bearer realm="safety-month"'


async def test_a_route_requiring_a_role_admits_it_and_forbids_the_others(jwt_secret: str) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_app(jwt_secret)), base_url="http://test"
    ) as client:
        admitted = await client.get(
            "/office",
            headers={"Authorization": f"Bearer {issue_token(jwt_secret, role='staff')}"},
        )
        forbidden = await client.get(
            "/office",
            headers={"Authorization": f"Bearer {issue_token(jwt_secret, role='unit', unit='44')}"},
        )

    assert (admitted.status_code, admitted.json()) == (200, {"sub": "staff"})
    assert forbidden.status_code == 403
    assert forbidden.json()["detail"] == "The role 'unit' may not do this; allowed: staff."
