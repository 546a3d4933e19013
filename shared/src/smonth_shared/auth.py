"""Bearer tokens and who may do what.

Tokens are standard JWTs with `iss`, `aud`, `sub`, `role`, `iat`, `exp`, and for a unit its
`unit`, for a ministry system the `units` it may act for, for a signed-in person the session
`sid`. Intake issues them (HS256 with SAFETY_MONTH_JWT_SECRET, shared by the four services);
`safety-month token` mints them for operators and tests. A deployment with its own identity
provider names its JWKS document, issuer and audience in settings: its RS256/ES256 tokens are
then taken by every service as well, with the same claims.

A withdrawn account, an ended session or a withdrawn client is refused by every service within
a second or two, long before its access token expires: intake publishes the withdrawal on the
internal access topic and every instance keeps the list (`Revocations`, fed by
smonth_shared.access_feed).
"""

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, Literal

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from smonth_shared.problems import Problem

Role = Literal["unit", "staff", "system", "admin"]
ROLES: tuple[Role, ...] = ("unit", "staff", "system", "admin")
ISSUER = "safety-month"
AUDIENCE = "safety-month"
ASYMMETRIC_ALGORITHMS = ["RS256", "ES256"]
CLOCK_LEEWAY = timedelta(seconds=30)
# Declares the bearer token in the OpenAPI documents; the refusal is bearer_token's own (401).
BEARER = HTTPBearer(auto_error=False, description="A token of `safety-month token` or sign-in.")


@dataclass(frozen=True)
class Principal:
    sub: str
    role: Role
    unit: str | None
    # A ministry system's units; None for a system token an operator minted (any unit).
    units: frozenset[str] | None = None
    issued_at: int = 0
    session: str | None = None

    def may_act_for(self, unit: str) -> bool:
        """A unit acts only for itself, a ministry system only for the units it is registered
        with; the office's staff and admins for any unit."""
        if self.role == "unit":
            return self.unit == unit
        if self.role == "system":
            return self.units is None or unit in self.units
        return True


def issue_token(
    secret: str, *, role: Role, unit: str | None = None, sub: str | None = None,
    ttl: timedelta = timedelta(hours=12), now: datetime | None = None,
    units: Iterable[str] | None = None, session: str | None = None,
) -> str:  # fmt: skip
    if role == "unit" and not unit:
        raise ValueError("a unit token needs --unit")
    issued = now or datetime.now(UTC)
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub or (f"unit:{unit}" if unit else role),
        "role": role,
        "unit": unit,
        "iat": int(issued.timestamp()),
        "exp": int((issued + ttl).timestamp()),
    }
    if units is not None:
        claims["units"] = sorted(units)
    if session is not None:
        claims["sid"] = session
    return jwt.encode(claims, secret, algorithm="HS256")


def _unauthorized(detail: str, detail_zh: str) -> Problem:
    return Problem(401, "Unauthorized", detail, detail_zh,
                   headers={"WWW-Authenticate": 'Bearer realm="safety-month"'})  # fmt: skip


class Revocations:
    """Who may no longer act: for each subject or session, the moment from which its tokens
    are refused (a token issued before it). Fed from the access topic; read on every request."""

    def __init__(self) -> None:
        self._not_before: dict[str, int] = {}
        self._lock = threading.Lock()

    def revoke(self, key: str, not_before: int) -> None:
        with self._lock:
            self._not_before[key] = max(not_before, self._not_before.get(key, 0))

    def refuses(self, principal: Principal) -> bool:
        keys = [f"sub:{principal.sub}"]
        if principal.session:
            keys.append(f"session:{principal.session}")
        return any(principal.issued_at < self._not_before.get(key, 0) for key in keys)

    def __len__(self) -> int:
        return len(self._not_before)


@dataclass(frozen=True)
class IdentityProvider:
    """A deployment's own OIDC issuer, whose signed tokens every service takes."""

    jwks_url: str
    issuer: str
    audience: str


class TokenVerifier:
    def __init__(
        self, secret: str, *, revocations: Revocations | None = None,
        provider: IdentityProvider | None = None,
    ) -> None:  # fmt: skip
        self.secret = secret
        # `is None`, not `or`: an empty list of revocations is falsy, and must still be the one
        # the access feed fills.
        self.revocations = Revocations() if revocations is None else revocations
        self.provider = provider
        self._jwks = jwt.PyJWKClient(provider.jwks_url, cache_keys=True) if provider else None

    def verify(self, token: str, *, at: datetime | None = None) -> Principal:
        """The token's principal, as of `at` (now by default: a token carried by a Kafka record
        is checked at the time the broker appended it)."""
        claims = self._claims(token, at)
        role = claims.get("role")
        if role not in ROLES or (role == "unit" and not claims.get("unit")):
            raise _unauthorized("The token names no valid role.", "凭证中的角色无效。")
        units = claims.get("units")
        if units is not None and not (isinstance(units, list) and all(isinstance(u, str)
                                                                     for u in units)):  # fmt: skip
            raise _unauthorized("The token's units are not a list of codes.", "凭证中的单位无效。")
        principal = Principal(
            sub=str(claims["sub"]), role=role, unit=claims.get("unit"),
            units=frozenset(units) if units is not None else None,
            issued_at=int(claims.get("iat", 0)), session=claims.get("sid"),
        )  # fmt: skip
        if self.revocations.refuses(principal):
            raise _unauthorized("The account, client or session has been withdrawn.",
                                "该账号或会话已被停用，请重新登录或联系管理员。")  # fmt: skip
        return principal

    def _claims(self, token: str, at: datetime | None) -> dict[str, Any]:
        options: Any = {"require": ["exp", "iat", "sub", "role"]}
        if at is not None:
            options["verify_exp"] = False
        try:
            algorithm = jwt.get_unverified_header(token).get("alg")
            if algorithm == "HS256":
                claims = jwt.decode(token, self.secret, algorithms=["HS256"], issuer=ISSUER,
                                    audience=AUDIENCE, options=options,
                                    leeway=CLOCK_LEEWAY)  # fmt: skip
            elif algorithm in ASYMMETRIC_ALGORITHMS and self.provider and self._jwks:
                key = self._jwks.get_signing_key_from_jwt(token)
                claims = jwt.decode(token, key, algorithms=ASYMMETRIC_ALGORITHMS,
                                    issuer=self.provider.issuer, audience=self.provider.audience,
                                    options=options, leeway=CLOCK_LEEWAY)  # fmt: skip
            else:
                raise jwt.InvalidAlgorithmError(algorithm)
        except jwt.ExpiredSignatureError:
            raise _unauthorized("The token has expired.", "凭证已过期，请重新登录。") from None
        except (jwt.InvalidTokenError, jwt.PyJWKClientError):
            raise _unauthorized("The token is not valid.", "凭证无效。") from None
        if at is not None and claims["exp"] + CLOCK_LEEWAY.total_seconds() < at.timestamp():
            raise _unauthorized("The token had expired when the message was written.",
                                "消息写入时凭证已过期。")  # fmt: skip
        return claims


def decode_token(secret: str, token: str) -> Principal:
    """A token of the services' own secret (tests and tools without a running service)."""
    return TokenVerifier(secret).verify(token)


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _unauthorized("A bearer token is required.", "请先登录（缺少凭证）。")
    return token.strip()


def requires(verifier: TokenVerifier, *roles: Role) -> Callable[..., Principal]:
    """A FastAPI dependency: the caller's principal, refused unless it has one of `roles`."""

    def dependency(
        request: Request, _: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
    ) -> Principal:
        principal = verifier.verify(bearer_token(request))
        if principal.role not in roles:
            raise Problem(
                403, "Forbidden",
                f"The role '{principal.role}' may not do this; allowed: {', '.join(roles)}.",
                f"当前角色（{principal.role}）无权进行此操作。",
            )  # fmt: skip
        return principal

    return dependency


def forbid_other_unit(principal: Principal, unit: str, field: str = "unit") -> None:
    if principal.may_act_for(unit):
        return
    if principal.role == "system":
        raise Problem(
            403, "Forbidden",
            f"This system is not registered to act for {field} {unit}.",
            f"该系统未获授权代{unit}报送。",
        )  # fmt: skip
    raise Problem(
        403, "Forbidden",
        f"A unit token acts only for its own unit ({principal.unit}), not for {field} {unit}.",
        f"本单位（{principal.unit}）只能为本单位报送，不能代{unit}报送。",
    )  # fmt: skip
