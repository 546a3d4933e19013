"""Who may act: accounts the office issues, their sessions, and the ministry systems' clients.

- An admin (or the office's staff, for a unit's liaison) creates an account; the person gets a
  one-time activation link by e-mail and sets a password (argon2id, never logged or returned).
- Signing in gives a short-lived access token (a JWT every service checks on its own) and a
  refresh token (random, kept only as its SHA-256) that turns over at each refresh.
- Repeated failures lock the sign-in: 5 for an address or 20 from a client address within
  15 minutes, until the oldest of them is 15 minutes old.
- Withdrawing an account, ending a session or changing a password publishes a revocation on
  the internal access topic: every instance of every service refuses the tokens issued before
  it within a second or two, long before they expire.
- Ministry systems get client credentials (OAuth2 client-credentials grant); their tokens
  name the units they are registered for.

Times here are the wall clock's (tokens expire in real time), not the campaign's clock.
"""

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from cryptography.fernet import MultiFernet

from smonth_intake import repository
from smonth_shared.auth import Principal, issue_token
from smonth_shared.db import Connection
from smonth_shared.events import AccessRevoked, RevocationReason, new_event
from smonth_shared.outbox import Outbox
from smonth_shared.problems import FieldError, Problem

AccountRole = Literal["unit", "staff", "admin"]
ACTIVATION_SUBJECT = "安全生产月系统：请激活您的账号"
RESET_SUBJECT = "安全生产月系统：重设密码"
LINK_LIFETIME = {"activation": timedelta(days=7), "reset": timedelta(hours=1)}
LOCKOUT_WINDOW = timedelta(minutes=15)
FAILURES_PER_EMAIL = 5
FAILURES_PER_ADDRESS = 20
BEIJING = ZoneInfo("Asia/Shanghai")
HASHER = PasswordHasher()  # argon2id, 64 MiB, 3 passes: the library's recommended defaults
# Verified when the address is unknown, so that an unknown address takes as long as a known one.
_DUMMY_HASH = HASHER.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class Issuer:
    """What the account handlers need: the services' shared key and where links point."""

    jwt_secret: str
    access_ttl: timedelta
    session_lifetime: timedelta
    public_url: str
    campaign: str
    outbox: Outbox
    cipher: MultiFernet

    def access_token(self, account: dict[str, Any], session_id: str, now: datetime) -> str:
        return issue_token(
            self.jwt_secret, role=account["role"], unit=account["unit"],
            sub=f"account:{account['account_id']}", ttl=self.access_ttl, now=now,
            session=str(session_id),
        )  # fmt: skip

    def client_token(self, client: dict[str, Any], now: datetime) -> str:
        return issue_token(
            self.jwt_secret, role="system", sub=f"client:{client['client_id']}",
            ttl=self.access_ttl, now=now, units=client["units"],
        )  # fmt: skip


def digest(token: str) -> bytes:
    """High-entropy secrets (links, refresh tokens, client secrets) need no slow hash."""
    return hashlib.sha256(token.encode()).digest()


def _problem(status: int, title: str, detail: str, detail_zh: str, *,
             field: str | None = None, headers: dict[str, str] | None = None) -> Problem:  # fmt: skip
    # Named as the body's own validation names a field (["units"]), so that a client finds
    # every refusal of a field under one loc.
    errors = [FieldError(loc=[field], msg=detail, msg_zh=detail_zh)] if field else []
    return Problem(status, title, detail, detail_zh, errors=errors, headers=headers)


def check_password(password: str, email: str) -> None:
    if len(password) < 10:
        raise _problem(422, "Unprocessable Content", "password: at least 10 characters.",
                       "密码至少 10 个字符。", field="password")  # fmt: skip
    if password.strip().lower() == email.strip().lower():
        raise _problem(422, "Unprocessable Content", "password: must not be the e-mail address.",
                       "密码不能与邮箱相同。", field="password")  # fmt: skip


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(HASHER.hash, password)


async def password_matches(stored: str | None, password: str) -> bool:
    try:
        return await asyncio.to_thread(HASHER.verify, stored or _DUMMY_HASH, password) and (
            stored is not None
        )
    except (VerificationError, InvalidHashError):
        return False


async def revoke(
    conn: Connection, issuer: Issuer, key: str, reason: RevocationReason, now: datetime
) -> datetime:  # fmt: skip
    """Tokens of `key` issued up to now are refused from the next second on, everywhere;
    returns that second, from which its new tokens are good."""
    payload = AccessRevoked(key=key, not_before=int(now.timestamp()) + 1, reason=reason)
    subject = key.split(":", 1)[1]
    await issuer.outbox.add(conn, new_event(payload, source="intake", time=now,
                                            campaign=issuer.campaign, subject=subject))  # fmt: skip
    return datetime.fromtimestamp(payload.not_before, UTC)


# --- accounts ---------------------------------------------------------------------------------


def account_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["account_id"], "email": row["email"], "name": row["name"], "role": row["role"],
        "unit": row["unit"], "status": row["status"], "created_at": row["created_at"],
        "activated_at": row["activated_at"], "withdrawn_at": row["withdrawn_at"],
        "last_sign_in": row["last_sign_in"],
    }  # fmt: skip


async def create_account(
    conn: Connection, issuer: Issuer, *, email: str, name: str, role: AccountRole,
    unit: str | None, by: Principal, now: datetime,
) -> dict[str, Any]:  # fmt: skip
    if by.role == "staff" and role != "unit":
        raise Problem(403, "Forbidden", "The office's staff issue accounts for units only.",
                      "工作人员只能为单位联络员开设账号。")  # fmt: skip
    if (role == "unit") != (unit is not None):
        raise _problem(422, "Unprocessable Content", "unit: required for a unit account, and "
                       "only for one.", "单位账号须填写单位，其他账号不填。", field="unit")  # fmt: skip
    if unit is not None and not await repository.unit(conn, issuer.campaign, unit):
        raise _problem(422, "Unprocessable Content", f"unit: {unit} is not in the registry.",
                       f"单位 {unit} 不在名录中。", field="unit")  # fmt: skip
    await repository.lock(conn, f"account:{email.lower()}")
    if await conn.fetchval("SELECT 1 FROM accounts WHERE lower(email) = lower($1) "
                           "AND status <> 'withdrawn'", email):  # fmt: skip
        raise _problem(409, "Conflict", f"email: an account for {email} exists already.",
                       f"邮箱 {email} 已有账号。", field="email")  # fmt: skip
    row = await conn.fetchrow(
        "INSERT INTO accounts (account_id, email, name, role, unit, status, created_by, "
        "created_at) VALUES ($1, $2, $3, $4, $5, 'invited', $6, $7) RETURNING *",
        secrets.token_hex(6), email, name, role, unit, by.sub, now,
    )  # fmt: skip
    await send_link(conn, issuer, row, "activation", now)
    return account_view(row)


async def send_link(
    conn: Connection, issuer: Issuer, account: Any, purpose: str, now: datetime
) -> None:  # fmt: skip
    """A new one-time link by e-mail; earlier unused links of the same purpose stop working."""
    link = secrets.token_urlsafe(32)
    await conn.execute("UPDATE account_links SET used_at = $3 WHERE account_id = $1 "
                       "AND purpose = $2 AND used_at IS NULL",
                       account["account_id"], purpose, now)  # fmt: skip
    await conn.execute(
        "INSERT INTO account_links (link_hash, account_id, purpose, expires_at) "
        "VALUES ($1, $2, $3, $4)",
        digest(link), account["account_id"], purpose, now + LINK_LIFETIME[purpose],
    )  # fmt: skip
    page = "activate" if purpose == "activation" else "reset-password"
    url = f"{issuer.public_url.rstrip('/')}/portal/{page}#token={link}"
    expires = (now + LINK_LIFETIME[purpose]).astimezone(BEIJING).strftime("%Y-%m-%d %H:%M")
    if purpose == "activation":
        subject = ACTIVATION_SUBJECT
        text = (
            f"{account['name']}，您好：\n\n安全生产月工作平台已为您开设账号（{account['email']}）。"
            f"请在 {expires}（北京时间）前打开以下链接设置密码：\n\n{url}\n\n"
            "链接只能使用一次。如非本人申请，请忽略本邮件。"
        )
    else:
        subject = RESET_SUBJECT
        text = (
            f"{account['name']}，您好：\n\n请在 {expires}（北京时间）前打开以下链接重设密码：\n\n"
            f"{url}\n\n链接只能使用一次。如非本人操作，请忽略本邮件，您的密码不会改变。"
        )
    await conn.execute(
        "INSERT INTO account_mail (to_address, subject, body, created_at, next_attempt_at) "
        "VALUES ($1, $2, $3, $4, $4)",
        account["email"], subject, issuer.cipher.encrypt(text.encode()), now,
    )  # fmt: skip
    await conn.execute("SELECT pg_notify('account_mail', '')")


async def take_link(conn: Connection, link: str, purpose: str, now: datetime) -> Any:
    row = await conn.fetchrow(
        "UPDATE account_links SET used_at = $3 WHERE link_hash = $1 AND purpose = $2 "
        "AND used_at IS NULL AND expires_at > $3 RETURNING account_id",
        digest(link), purpose, now,
    )  # fmt: skip
    if row is None:
        raise _problem(400, "Bad Request", "token: the link is unknown, used or expired.",
                       "链接无效、已使用或已过期，请联系管理员重新发送。", field="token")  # fmt: skip
    return await conn.fetchrow("SELECT * FROM accounts WHERE account_id = $1 FOR UPDATE",
                               row["account_id"])  # fmt: skip


async def activate(
    conn: Connection, issuer: Issuer, link: str, password: str, now: datetime
) -> dict[str, Any]:  # fmt: skip
    account = await take_link(conn, link, "activation", now)
    if account["status"] != "invited":
        raise _problem(400, "Bad Request", "token: the account is not waiting to be activated.",
                       "该账号无需激活。", field="token")  # fmt: skip
    check_password(password, account["email"])
    row = await conn.fetchrow(
        "UPDATE accounts SET status = 'active', password_hash = $2, activated_at = $3 "
        "WHERE account_id = $1 RETURNING *",
        account["account_id"], await hash_password(password), now,
    )  # fmt: skip
    return account_view(row)


async def reset_password(
    conn: Connection, issuer: Issuer, link: str, password: str, now: datetime
) -> dict[str, Any]:  # fmt: skip
    account = await take_link(conn, link, "reset", now)
    if account["status"] != "active":
        raise _problem(400, "Bad Request", "token: the account is not active.",
                       "该账号未激活或已停用。", field="token")  # fmt: skip
    check_password(password, account["email"])
    row = await conn.fetchrow("UPDATE accounts SET password_hash = $2 WHERE account_id = $1 "
                              "RETURNING *", account["account_id"],
                              await hash_password(password))  # fmt: skip
    await _end_sessions(conn, account["account_id"], now)
    await revoke(conn, issuer, f"sub:account:{account['account_id']}", "password-changed", now)
    return account_view(row)


async def request_reset(conn: Connection, issuer: Issuer, email: str, now: datetime) -> None:
    """Mails a link to an active account; says nothing of whether the address has one."""
    account = await conn.fetchrow("SELECT * FROM accounts WHERE lower(email) = lower($1) "
                                  "AND status = 'active'", email)  # fmt: skip
    if account is not None:
        await send_link(conn, issuer, account, "reset", now)


async def withdraw(
    conn: Connection, issuer: Issuer, account_id: str, *, reason: str, by: Principal,
    now: datetime,
) -> dict[str, Any]:  # fmt: skip
    account = await conn.fetchrow("SELECT * FROM accounts WHERE account_id = $1 FOR UPDATE",
                                  account_id)  # fmt: skip
    if account is None:
        raise Problem(
            404, "Not Found", f"No account {account_id}.", f"没有编号为 {account_id} 的账号。"
        )
    if by.role == "staff" and account["role"] != "unit":
        raise Problem(403, "Forbidden", "The office's staff withdraw unit accounts only.",
                      "工作人员只能停用单位联络员账号。")  # fmt: skip
    if account["status"] == "withdrawn":
        return account_view(account)
    row = await conn.fetchrow(
        "UPDATE accounts SET status = 'withdrawn', withdrawn_at = $2, withdrawn_reason = $3 "
        "WHERE account_id = $1 RETURNING *", account_id, now, reason,
    )  # fmt: skip
    await conn.execute("UPDATE account_links SET used_at = $2 WHERE account_id = $1 "
                       "AND used_at IS NULL", account_id, now)  # fmt: skip
    await _end_sessions(conn, account_id, now)
    # The access topic names the kind of withdrawal; the office's own words stay in the table.
    kind: RevocationReason = "liaison-replaced" if reason == "liaison-replaced" else "withdrawn"
    await revoke(conn, issuer, f"sub:account:{account_id}", kind, now)
    return account_view(row)


async def replace_liaison(
    conn: Connection, issuer: Issuer, *, unit: str, name: str, email: str, by: Principal,
    now: datetime,
) -> None:  # fmt: skip
    """A new liaison.designated: the unit's other accounts can no longer act for it, and the
    new liaison is invited (unless they have an account for the unit already)."""
    others = await conn.fetch("SELECT account_id FROM accounts WHERE unit = $1 AND "
                              "status <> 'withdrawn' AND lower(email) <> lower($2)",
                              unit, email)  # fmt: skip
    for other in others:
        await withdraw(conn, issuer, other["account_id"], reason="liaison-replaced", by=by, now=now)
    live = await conn.fetchrow("SELECT unit FROM accounts WHERE lower(email) = lower($1) "
                               "AND status <> 'withdrawn'", email)  # fmt: skip
    if live is None:
        await create_account(conn, issuer, email=email, name=name, role="unit", unit=unit,
                             by=Principal(sub=by.sub, role="admin", unit=None), now=now)  # fmt: skip


async def list_accounts(
    conn: Connection, *, by: Principal, unit: str | None, status: str | None
) -> list[dict[str, Any]]:  # fmt: skip
    rows = await conn.fetch(
        "SELECT * FROM accounts WHERE ($1::text IS NULL OR unit = $1) "
        "AND ($2::text IS NULL OR status = $2) AND ($3 OR role = 'unit') "
        "ORDER BY account_id", unit, status, by.role == "admin",
    )  # fmt: skip
    return [account_view(row) for row in rows]


# --- sign-in and sessions ---------------------------------------------------------------------


async def _lifts_at(conn: Connection, email: str, address: str, now: datetime) -> datetime | None:
    """When a lock-out on this address or client address ends, if one is on."""
    since = now - LOCKOUT_WINDOW
    by_email = await conn.fetchval(
        "SELECT failed_at FROM sign_in_failures WHERE lower(email) = lower($1) AND failed_at > $2"
        " ORDER BY failed_at DESC OFFSET $3 LIMIT 1", email, since, FAILURES_PER_EMAIL - 1,
    )  # fmt: skip
    by_address = await conn.fetchval(
        "SELECT failed_at FROM sign_in_failures WHERE address = $1 AND failed_at > $2"
        " ORDER BY failed_at DESC OFFSET $3 LIMIT 1", address, since, FAILURES_PER_ADDRESS - 1,
    )  # fmt: skip
    oldest = [at for at in (by_email, by_address) if at is not None]
    return max(oldest) + LOCKOUT_WINDOW if oldest else None


def _locked(until: datetime, now: datetime) -> Problem:
    local = until.astimezone(BEIJING).strftime("%H:%M")
    wait = max(1, int((until - now).total_seconds()) + 1)
    return Problem(
        429, "Too Many Requests",
        f"Too many failed sign-ins; try again after {until.isoformat()}.",
        f"登录失败次数过多，已暂时锁定，请于北京时间 {local} 后再试。",
        headers={"Retry-After": str(wait)},
    )  # fmt: skip


async def sign_in(
    conn: Connection, issuer: Issuer, *, email: str, password: str, address: str, now: datetime
) -> dict[str, Any]:  # fmt: skip
    if (until := await _lifts_at(conn, email, address, now)) is not None:
        raise _locked(until, now)
    account = await conn.fetchrow("SELECT * FROM accounts WHERE lower(email) = lower($1) "
                                  "AND status = 'active'", email)  # fmt: skip
    if account is None or not await password_matches(account["password_hash"], password):
        if account is None:
            await password_matches(None, password)  # as long as for a known address
        await conn.execute("INSERT INTO sign_in_failures (failed_at, email, address) "
                           "VALUES ($1, $2, $3)", now, email, address)  # fmt: skip
        if (until := await _lifts_at(conn, email, address, now)) is not None:
            raise _locked(until, now)
        raise Problem(401, "Unauthorized", "The e-mail address or the password is wrong.",
                      "邮箱或密码不正确。")  # fmt: skip
    await conn.execute("DELETE FROM sign_in_failures WHERE lower(email) = lower($1)", email)
    await conn.execute("UPDATE accounts SET last_sign_in = $2 WHERE account_id = $1",
                       account["account_id"], now)  # fmt: skip
    refresh = secrets.token_urlsafe(32)
    session = await conn.fetchrow(
        "INSERT INTO sessions (session_id, account_id, refresh_hash, created_at, refreshed_at, "
        "expires_at) VALUES ($1, $2, $3, $4, $4, $5) RETURNING session_id",
        secrets.token_hex(8), account["account_id"], digest(refresh), now,
        now + issuer.session_lifetime,
    )  # fmt: skip
    assert session is not None  # an INSERT ... RETURNING gives its row
    return _tokens(issuer, account, session["session_id"], refresh, now)


def _tokens(
    issuer: Issuer, account: Any, session_id: str, refresh: str, now: datetime
) -> dict[str, Any]:  # fmt: skip
    return {
        "access_token": issuer.access_token(account, session_id, now), "token_type": "Bearer",
        "expires_in": int(issuer.access_ttl.total_seconds()), "refresh_token": refresh,
        "account": account_view(account),
    }  # fmt: skip


async def _live_session(conn: Connection, refresh: str, now: datetime) -> Any:
    session = await conn.fetchrow(
        "SELECT s.session_id, a.* FROM sessions s JOIN accounts a USING (account_id) "
        "WHERE s.refresh_hash = $1 AND s.ended_at IS NULL AND s.expires_at > $2 "
        "FOR UPDATE OF s", digest(refresh), now,
    )  # fmt: skip
    if session is None or session["status"] != "active":
        raise _problem(401, "Unauthorized", "refresh_token: unknown, used, ended or expired.",
                       "登录已失效，请重新登录。", field="refresh_token")  # fmt: skip
    return session


async def refresh_session(
    conn: Connection, issuer: Issuer, refresh: str, now: datetime
) -> dict[str, Any]:  # fmt: skip
    session = await _live_session(conn, refresh, now)
    turned = secrets.token_urlsafe(32)
    await conn.execute("UPDATE sessions SET refresh_hash = $2, refreshed_at = $3 "
                       "WHERE session_id = $1", session["session_id"], digest(turned), now)  # fmt: skip
    return _tokens(issuer, session, session["session_id"], turned, now)


async def sign_out(conn: Connection, issuer: Issuer, refresh: str, now: datetime) -> None:
    session = await _live_session(conn, refresh, now)
    await conn.execute("UPDATE sessions SET ended_at = $2 WHERE session_id = $1",
                       session["session_id"], now)  # fmt: skip
    await revoke(conn, issuer, f"session:{session['session_id']}", "signed-out", now)


async def _end_sessions(conn: Connection, account_id: str, now: datetime) -> None:
    await conn.execute("UPDATE sessions SET ended_at = $2 WHERE account_id = $1 "
                       "AND ended_at IS NULL", account_id, now)  # fmt: skip


# --- ministry systems -------------------------------------------------------------------------


def client_view(row: Any) -> dict[str, Any]:
    return {"client_id": row["client_id"], "name": row["name"], "units": list(row["units"]),
            "status": row["status"], "created_at": row["created_at"],
            "withdrawn_at": row["withdrawn_at"], "last_token_at": row["last_token_at"]}  # fmt: skip


async def create_client(
    conn: Connection, issuer: Issuer, *, client_id: str, name: str, units: Sequence[str],
    by: Principal, now: datetime,
) -> tuple[dict[str, Any], str]:  # fmt: skip
    await _all_registered(conn, issuer, units)
    secret = secrets.token_urlsafe(32)
    row = await conn.fetchrow(
        "INSERT INTO clients (client_id, name, secret_hash, units, status, created_by, "
        "created_at) VALUES ($1, $2, $3, $4, 'active', $5, $6) "
        "ON CONFLICT (client_id) DO NOTHING RETURNING *",
        client_id, name, digest(secret), sorted(set(units)), by.sub, now,
    )  # fmt: skip
    if row is None:
        raise _problem(409, "Conflict", f"client_id: {client_id} is registered already.",
                       f"系统编号 {client_id} 已被使用。", field="client_id")  # fmt: skip
    return client_view(row), secret


async def set_client_units(
    conn: Connection, issuer: Issuer, client_id: str, units: Sequence[str], now: datetime
) -> dict[str, Any]:  # fmt: skip
    """The units an active system may act for from now on. Its tokens name the units they were
    issued for, so they stop working at once: a unit taken away is taken away now, and the
    system's next token (client credentials again) names the new ones."""
    client = await _client(conn, client_id)
    if client["status"] != "active":
        raise Problem(409, "Conflict", f"The client {client_id} is withdrawn.",
                      f"系统 {client_id} 已停用。")  # fmt: skip
    await _all_registered(conn, issuer, units)
    tokens_from = await revoke(conn, issuer, f"sub:client:{client_id}", "withdrawn", now)
    row = await conn.fetchrow("UPDATE clients SET units = $2, tokens_from = $3 "
                              "WHERE client_id = $1 RETURNING *",
                              client_id, sorted(set(units)), tokens_from)  # fmt: skip
    return client_view(row)


async def _all_registered(conn: Connection, issuer: Issuer, units: Sequence[str]) -> None:
    unknown = [u for u in units if await repository.unit(conn, issuer.campaign, u) is None]
    if unknown:
        raise _problem(422, "Unprocessable Content",
                       f"units: not in the registry: {', '.join(unknown)}.",
                       f"以下单位不在名录中：{'、'.join(unknown)}。", field="units")  # fmt: skip


async def _client(conn: Connection, client_id: str) -> Any:
    row = await conn.fetchrow("SELECT * FROM clients WHERE client_id = $1 FOR UPDATE", client_id)
    if row is None:
        raise Problem(
            404, "Not Found", f"No client {client_id}.", f"没有编号为 {client_id} 的系统。"
        )
    return row


async def rotate_client_secret(
    conn: Connection, issuer: Issuer, client_id: str, now: datetime
) -> tuple[dict[str, Any], str]:  # fmt: skip
    """A new secret; the old one and the tokens it got stop working at once."""
    client = await _client(conn, client_id)
    if client["status"] != "active":
        raise Problem(409, "Conflict", f"The client {client_id} is withdrawn.",
                      f"系统 {client_id} 已停用。")  # fmt: skip
    secret = secrets.token_urlsafe(32)
    tokens_from = await revoke(conn, issuer, f"sub:client:{client_id}", "withdrawn", now)
    row = await conn.fetchrow("UPDATE clients SET secret_hash = $2, tokens_from = $3 "
                              "WHERE client_id = $1 RETURNING *",
                              client_id, digest(secret), tokens_from)  # fmt: skip
    return client_view(row), secret


async def withdraw_client(
    conn: Connection, issuer: Issuer, client_id: str, now: datetime
) -> dict[str, Any]:  # fmt: skip
    client = await _client(conn, client_id)
    if client["status"] == "withdrawn":
        return client_view(client)
    row = await conn.fetchrow("UPDATE clients SET status = 'withdrawn', withdrawn_at = $2 "
                              "WHERE client_id = $1 RETURNING *", client_id, now)  # fmt: skip
    await revoke(conn, issuer, f"sub:client:{client_id}", "withdrawn", now)
    return client_view(row)


async def registered_client(conn: Connection, client_id: str) -> Any:
    """The system's registration as it is now (its status and units), or None."""
    return await conn.fetchrow("SELECT status, units FROM clients WHERE client_id = $1",
                               client_id)  # fmt: skip


async def list_clients(conn: Connection) -> list[dict[str, Any]]:
    return [
        client_view(row) for row in await conn.fetch("SELECT * FROM clients ORDER BY client_id")
    ]


async def client_credentials(
    conn: Connection, issuer: Issuer, client_id: str, secret: str, now: datetime
) -> dict[str, Any] | None:  # fmt: skip
    """The token response of RFC 6749 4.4, or None for unknown or wrong credentials."""
    row = await conn.fetchrow("SELECT * FROM clients WHERE client_id = $1 AND status = 'active'",
                              client_id)  # fmt: skip
    if row is None or not hmac.compare_digest(bytes(row["secret_hash"]), digest(secret)):
        return None
    await conn.execute("UPDATE clients SET last_token_at = $2 WHERE client_id = $1",
                       client_id, now)  # fmt: skip
    # At most a second ahead, well inside every verifier's clock leeway.
    issued = max(now, row["tokens_from"] or now)
    return {"access_token": issuer.client_token(row, issued), "token_type": "Bearer",
            "expires_in": int(issuer.access_ttl.total_seconds())}  # fmt: skip


def now() -> datetime:
    return datetime.now(UTC)
