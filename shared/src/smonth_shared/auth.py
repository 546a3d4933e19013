"""Bearer tokens (HS256 JWT with `sub`, `role`, `unit`, `exp`) and who may do what."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt
from fastapi import Request

from smonth_shared.problems import Problem

Role = Literal["unit", "staff", "system", "admin"]
ROLES: tuple[Role, ...] = ("unit", "staff", "system", "admin")


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role
    unit: str | None

    def may_act_for(self, unit: str) -> bool:
        """A unit acts only for itself; the office, ministry systems and admins for any unit."""
        return self.role != "unit" or self.unit == unit


def issue_token(
    secret: str, *, role: Role, unit: str | None = None, sub: str | None = None,
    ttl: timedelta = timedelta(hours=12), now: datetime | None = None,
) -> str:  # fmt: skip
    if role == "unit" and not unit:
        raise ValueError("a unit token needs --unit")
    issued = now or datetime.now(UTC)
    claims = {
        "sub": sub or (f"unit:{unit}" if unit else role),
        "role": role,
        "unit": unit,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def _unauthorized(detail: str, detail_zh: str) -> Problem:
    return Problem(401, "Unauthorized", detail, detail_zh,
                   headers={"WWW-Authenticate": 'Bearer realm="safety-month"'})  # fmt: skip


def decode_token(secret: str, token: str) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["exp", "sub", "role"]}
        )
    except jwt.ExpiredSignatureError:
        raise _unauthorized("The token has expired.", "凭证已过期，请重新获取。") from None
    except jwt.InvalidTokenError:
        raise _unauthorized("The token is not valid.", "凭证无效。") from None
    if claims.get("role") not in ROLES or (claims["role"] == "unit" and not claims.get("unit")):
        raise _unauthorized("The token names no valid role.", "凭证中的角色无效。")
    return Principal(sub=str(claims["sub"]), role=claims["role"], unit=claims.get("unit"))


def requires(secret: str, *roles: Role) -> Callable[..., Principal]:
    """A FastAPI dependency: the caller's principal, refused unless it has one of `roles`."""

    def dependency(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token:
            raise _unauthorized("A bearer token is required.", "请先登录（缺少凭证）。")
        principal = decode_token(secret, token.strip())
        if principal.role not in roles:
            raise Problem(
                403, "Forbidden",
                f"The role '{principal.role}' may not do this; allowed: {', '.join(roles)}.",
                f"当前角色（{principal.role}）无权进行此操作。",
            )  # fmt: skip
        return principal

    return dependency


def forbid_other_unit(principal: Principal, unit: str, field: str = "unit") -> None:
    if not principal.may_act_for(unit):
        raise Problem(
            403, "Forbidden",
            f"A unit token acts only for its own unit ({principal.unit}), not for {field} {unit}.",
            f"本单位（{principal.unit}）只能为本单位报送，不能代{unit}报送。",
        )  # fmt: skip
