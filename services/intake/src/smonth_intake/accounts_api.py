"""Sign-in, accounts and ministry systems' credentials over HTTP (see accounts.py)."""

import base64
import binascii
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from smonth_intake import accounts
from smonth_intake.models import Email, Text50, Text100
from smonth_intake.routes import client_address
from smonth_shared.auth import Principal, requires
from smonth_shared.db import Connection
from smonth_shared.events import UnitCode
from smonth_shared.openapi import problem_responses
from smonth_shared.problems import Problem
from smonth_shared.runtime import Runtime
from smonth_shared.storable import StorableBody

T = TypeVar("T")
Password = Annotated[
    str, Field(min_length=1, max_length=128, description="At least 10 characters.")
]
OneTimeLink = Annotated[
    str, Field(min_length=16, max_length=100, description="From the e-mail's link.")
]
ClientId = Annotated[str, Field(min_length=3, max_length=20, pattern=r"^[a-z0-9][a-z0-9.-]+$",
                                description="The system's id: its envelopes' `source`.",
                                examples=["mem-hazard-db"])]  # fmt: skip


AccountId = Annotated[str, Path(pattern=r"^[0-9a-f]{12}$", examples=["3f9a0c71d2b4"])]
ClientPath = Annotated[str, Path(min_length=3, max_length=20, pattern=r"^[a-z0-9][a-z0-9.-]+$")]


class Body(StorableBody):
    """What an account's or a system's request sends."""


class SignIn(Body):
    email: Email
    password: Password


class RefreshToken(Body):
    refresh_token: str = Field(min_length=16, max_length=100)


class LinkAndPassword(Body):
    token: OneTimeLink
    password: Password


class ResetRequest(Body):
    email: Email


class NewAccount(Body):
    email: Email
    name: Text50
    role: Literal["unit", "staff", "admin"] = "unit"
    unit: UnitCode | None = Field(default=None, description="For a unit's liaison.")


class Withdrawal(Body):
    reason: Text100 = "withdrawn"


Units = Annotated[list[UnitCode], Field(min_length=1, max_length=200,
                                        description="The units the system may act for.")]  # fmt: skip


class NewClient(Body):
    client_id: ClientId
    name: Text100
    units: Units


class ClientUnits(Body):
    units: Units


class OAuthError(BaseModel):
    """RFC 6749 5.2: the token endpoint's own error document."""

    error: Literal["invalid_request", "unsupported_grant_type", "invalid_client"]
    error_description: str


def router(runtime: Runtime, issuer: Callable[[], accounts.Issuer]) -> APIRouter:
    api = APIRouter(prefix="/v1")
    anyone_signed_in = requires(runtime.verifier, "unit", "staff", "admin", "system")
    office = requires(runtime.verifier, "staff", "admin")
    admin = requires(runtime.verifier, "admin")

    async def transaction(work: Callable[[Connection], Awaitable[T]]) -> T:
        async with runtime.pool.acquire() as conn, conn.transaction():
            return await work(conn)

    def answer(body: Any, status: int = 200) -> JSONResponse:
        # Tokens and secrets in an answer: never kept by a cache or a proxy.
        return JSONResponse(jsonable_encoder(body), status_code=status,
                            headers={"Cache-Control": "no-store"})  # fmt: skip

    @api.post(
        "/auth/sign-in",
        tags=["accounts"],
        summary="Sign in with e-mail and password",
        responses=problem_responses(401, 413, 429),
    )
    async def sign_in(request: Request, body: SignIn) -> JSONResponse:
        address = client_address(request)
        # The failure a wrong password records must survive the refusal: its own transaction.
        async with runtime.pool.acquire() as conn:
            tokens = await accounts.sign_in(conn, issuer(), email=body.email,
                                            password=body.password, address=address,
                                            now=accounts.now())  # fmt: skip
        return answer(tokens)

    @api.post(
        "/auth/refresh",
        tags=["accounts"],
        summary="A new access token (and refresh token)",
        responses=problem_responses(401, 413),
    )
    async def refresh(body: RefreshToken) -> JSONResponse:
        return answer(await transaction(lambda conn: accounts.refresh_session(
            conn, issuer(), body.refresh_token, accounts.now())))  # fmt: skip

    @api.post("/auth/sign-out", status_code=204, tags=["accounts"], responses=problem_responses(401, 413),
              summary="End the session: its tokens stop working on every service")  # fmt: skip
    async def sign_out(body: RefreshToken) -> Response:
        await transaction(lambda conn: accounts.sign_out(conn, issuer(), body.refresh_token,
                                                         accounts.now()))  # fmt: skip
        return Response(status_code=204)

    @api.post("/auth/activate", tags=["accounts"], responses=problem_responses(400, 413),
              summary="Take up an invitation: set the password")  # fmt: skip
    async def activate(body: LinkAndPassword) -> JSONResponse:
        return answer(await transaction(lambda conn: accounts.activate(
            conn, issuer(), body.token, body.password, accounts.now())))  # fmt: skip

    @api.post("/auth/password-reset", status_code=202, tags=["accounts"], responses=problem_responses(413),
              summary="Mail a reset link (the same answer whether or not the address has one)")  # fmt: skip
    async def request_reset(body: ResetRequest) -> JSONResponse:
        await transaction(lambda conn: accounts.request_reset(conn, issuer(), body.email,
                                                              accounts.now()))  # fmt: skip
        return answer({"status": "mailed if the address has an account",
                       "status_zh": "如该邮箱有账号，重设链接已发送。"}, 202)  # fmt: skip

    @api.post("/auth/password-reset/confirm", tags=["accounts"], responses=problem_responses(400, 413),
              summary="Set a new password with the reset link; every session ends")  # fmt: skip
    async def confirm_reset(body: LinkAndPassword) -> JSONResponse:
        return answer(await transaction(lambda conn: accounts.reset_password(
            conn, issuer(), body.token, body.password, accounts.now())))  # fmt: skip

    @api.get("/me", tags=["accounts"], summary="Who the token is")
    async def me(principal: Annotated[Principal, Depends(anyone_signed_in)]) -> JSONResponse:
        return answer({"sub": principal.sub, "role": principal.role, "unit": principal.unit,
                       "units": sorted(principal.units) if principal.units is not None else None})  # fmt: skip

    @api.get("/accounts", tags=["accounts"],
             summary="Accounts (the office's staff see units' accounts only)")  # fmt: skip
    async def list_accounts(
        principal: Annotated[Principal, Depends(office)],
        unit: Annotated[UnitCode | None, Query()] = None,
        status: Annotated[Literal["invited", "active", "withdrawn"] | None, Query()] = None,
    ) -> JSONResponse:  # fmt: skip
        return answer(await transaction(lambda conn: accounts.list_accounts(
            conn, by=principal, unit=unit, status=status)))  # fmt: skip

    @api.post("/accounts", status_code=201, tags=["accounts"], responses=problem_responses(409, 413),
              summary="Issue an account; the person is mailed an activation link")  # fmt: skip
    async def create_account(
        body: NewAccount, principal: Annotated[Principal, Depends(office)]
    ) -> JSONResponse:  # fmt: skip
        return answer(await transaction(lambda conn: accounts.create_account(
            conn, issuer(), email=body.email, name=body.name, role=body.role, unit=body.unit,
            by=principal, now=accounts.now())), 201)  # fmt: skip

    @api.post("/accounts/{account_id}/withdraw", tags=["accounts"], responses=problem_responses(404, 413),
              summary="Withdraw an account: its tokens stop working on every service")  # fmt: skip
    async def withdraw(
        account_id: AccountId, principal: Annotated[Principal, Depends(office)],
        body: Withdrawal | None = None,
    ) -> JSONResponse:  # fmt: skip
        reason = body.reason if body else "withdrawn"
        return answer(await transaction(lambda conn: accounts.withdraw(
            conn, issuer(), account_id, reason=reason, by=principal, now=accounts.now())))  # fmt: skip

    @api.post("/accounts/{account_id}/invitation", status_code=202, tags=["accounts"],
              responses=problem_responses(404, 409),
              summary="Mail a new activation link to an account not yet activated")  # fmt: skip
    async def resend(
        account_id: AccountId, principal: Annotated[Principal, Depends(office)]
    ) -> JSONResponse:  # fmt: skip
        async def work(conn: Connection) -> dict[str, Any]:
            row = await conn.fetchrow("SELECT * FROM accounts WHERE account_id = $1", account_id)
            if row is None or (principal.role == "staff" and row["role"] != "unit"):
                raise Problem(404, "Not Found", f"No account {account_id}.",
                                       f"没有编号为 {account_id} 的账号。")  # fmt: skip
            if row["status"] != "invited":
                raise Problem(409, "Conflict", "The account is not waiting for "
                                       "activation.", "该账号已激活或已停用。")  # fmt: skip
            await accounts.send_link(conn, issuer(), row, "activation", accounts.now())
            return accounts.account_view(row)

        return answer(await transaction(work), 202)

    @api.get("/clients", tags=["ministry systems"], summary="Registered ministry systems")
    async def list_clients(_: Annotated[Principal, Depends(admin)]) -> JSONResponse:
        return answer(await transaction(accounts.list_clients))

    @api.post("/clients", status_code=201, tags=["ministry systems"], responses=problem_responses(409, 413),
              summary="Register a ministry system; its secret is shown once, here")  # fmt: skip
    async def create_client(
        body: NewClient, principal: Annotated[Principal, Depends(admin)]
    ) -> JSONResponse:  # fmt: skip
        client, secret = await transaction(lambda conn: accounts.create_client(
            conn, issuer(), client_id=body.client_id, name=body.name, units=body.units,
            by=principal, now=accounts.now()))  # fmt: skip
        return answer({**client, "client_secret": secret}, 201)

    @api.post("/clients/{client_id}/secret", tags=["ministry systems"], responses=problem_responses(404, 409),
              summary="A new secret; the old one and its tokens stop working")  # fmt: skip
    async def rotate(
        client_id: ClientPath, _: Annotated[Principal, Depends(admin)]
    ) -> JSONResponse:  # fmt: skip
        client, secret = await transaction(lambda conn: accounts.rotate_client_secret(
            conn, issuer(), client_id, accounts.now()))  # fmt: skip
        return answer({**client, "client_secret": secret})

    @api.put("/clients/{client_id}/units", tags=["ministry systems"],
             responses=problem_responses(404, 409, 413),
             summary="The units a system may act for; its tokens stop working")  # fmt: skip
    async def set_units(
        client_id: ClientPath, body: ClientUnits, _: Annotated[Principal, Depends(admin)]
    ) -> JSONResponse:  # fmt: skip
        return answer(await transaction(lambda conn: accounts.set_client_units(
            conn, issuer(), client_id, body.units, accounts.now())))  # fmt: skip

    @api.post("/clients/{client_id}/withdraw", tags=["ministry systems"], responses=problem_responses(404),
              summary="Withdraw a system: its tokens stop working on every service")  # fmt: skip
    async def withdraw_client(
        client_id: ClientPath, _: Annotated[Principal, Depends(admin)]
    ) -> JSONResponse:  # fmt: skip
        return answer(await transaction(lambda conn: accounts.withdraw_client(
            conn, issuer(), client_id, accounts.now())))  # fmt: skip

    @api.post("/oauth/token", tags=["ministry systems"],
              summary="OAuth 2.0 client-credentials grant (RFC 6749 4.4)",
              responses={400: {"model": OAuthError, "description": "Bad Request"},
                         401: {"model": OAuthError, "description": "Unauthorized"},
                         **problem_responses(413)},
              openapi_extra={"requestBody": {"required": True, "content": {
                  "application/x-www-form-urlencoded": {"schema": {
                      "type": "object", "required": ["grant_type"],
                      "properties": {"grant_type": {"type": "string", "enum": ["client_credentials"]},
                                     "client_id": {"type": "string", "maxLength": 20},
                                     "client_secret": {"type": "string", "maxLength": 100}}}}}}})  # fmt: skip
    async def token(request: Request) -> JSONResponse:
        raw = await request.body()
        if len(raw) > 4096:
            return _oauth_error(400, "invalid_request", "The request is too large.")
        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, "unsupported_grant_type",
                                "grant_type must be client_credentials.")  # fmt: skip
        client_id, secret = _client_authentication(request, form)
        if not client_id or not secret:
            return _oauth_error(401, "invalid_client", "Client authentication is required.")
        if not _well_formed(client_id, 20) or not _well_formed(secret, 100):
            return _oauth_error(401, "invalid_client", "Unknown client or wrong secret.")
        granted = await transaction(lambda conn: accounts.client_credentials(
            conn, issuer(), client_id, secret, accounts.now()))  # fmt: skip
        if granted is None:
            return _oauth_error(401, "invalid_client", "Unknown client or wrong secret.")
        return answer(granted)

    return api


def _client_authentication(request: Request, form: dict[str, str]) -> tuple[str, str]:
    """HTTP Basic (the RFC's preferred way) or the form's client_id and client_secret."""
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            client_id, _, secret = base64.b64decode(encoded, validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            return "", ""
        return client_id, secret
    return form.get("client_id", ""), form.get("client_secret", "")


def _well_formed(credential: str, max_length: int) -> bool:
    """No registered id or secret is longer or holds a NUL (which PostgreSQL cannot compare)."""
    return len(credential) <= max_length and "\x00" not in credential


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="safety-month"'
    return JSONResponse({"error": error, "error_description": description}, status_code=status,
                        headers=headers)  # fmt: skip
