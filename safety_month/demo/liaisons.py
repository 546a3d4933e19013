"""The units' liaisons as people: the office issues each unit's liaison an account, the liaison
takes up the invitation from the activation mail in the SMTP sink, sets a password and signs in.
Every HTTP submission of a unit carries its liaison's access token, renewed by refresh before it
expires — as a liaison's browser would."""

import asyncio
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import httpx

from safety_month.demo.scenario import Contact

ACTIVATION_LINK = re.compile(r"/portal/activate#token=([A-Za-z0-9_-]+)")
# Sign-ups at once: each costs intake an argon2 hash (activation) and a verification (sign-in),
# some 0.1 s of both cores each; more at once only thrash.
AT_ONCE = 3
MAIL_WAIT_SECONDS = 120.0


class SignUpError(Exception):
    """A liaison could not get (or renew) an access token."""


@dataclass
class _Session:
    access_token: str
    refresh_token: str
    renew_at: float  # time.monotonic()


class Liaisons:
    def __init__(
        self, http: httpx.AsyncClient, contacts: dict[str, Contact], *, office_token: str,
        mails_to: Callable[[str], list[Path]],
        send: Callable[[Callable[[], Awaitable[httpx.Response]]], Awaitable[httpx.Response]],
    ) -> None:  # fmt: skip
        self.http = http
        self.contacts = contacts
        self.office = {"Authorization": f"Bearer {office_token}"}
        self.mails_to = mails_to
        self.send = send  # with retries after a dropped connection or a 5xx
        self.signed_in = 0
        self._slots = asyncio.Semaphore(AT_ONCE)
        self._sessions: dict[str, asyncio.Task[_Session]] = {}
        self._renewing: dict[str, asyncio.Lock] = {}
        self._passwords: dict[str, str] = {}

    def issue_all(self, units: list[str]) -> None:
        """Starts each unit's account on its way (issued, activated, signed in), in this order;
        `token` waits for the unit's own."""
        for unit in units:
            self._sessions[unit] = asyncio.create_task(self._sign_up(unit))
            self._renewing[unit] = asyncio.Lock()

    async def token(self, unit: str) -> str:
        session = await self._sessions[unit]
        if time.monotonic() >= session.renew_at:
            async with self._renewing[unit]:
                if time.monotonic() >= session.renew_at:
                    answer = await self._post("/v1/auth/refresh",
                                              {"refresh_token": session.refresh_token})  # fmt: skip
                    _renew(session, answer)
        return session.access_token

    def sign_in_of(self, unit: str) -> tuple[str, str] | None:
        """The e-mail and password a person would type for `unit`, once its liaison has them."""
        if unit not in self._passwords:
            return None
        return self.contacts[unit].email, self._passwords[unit]

    async def close(self) -> None:
        for task in self._sessions.values():
            task.cancel()
        await asyncio.gather(*self._sessions.values(), return_exceptions=True)

    async def _sign_up(self, unit: str) -> _Session:
        contact = self.contacts[unit]
        password = secrets.token_urlsafe(16)
        async with self._slots:
            issued = await self.send(lambda: self.http.post("/v1/accounts", headers=self.office, json={
                "email": contact.email, "name": contact.name, "role": "unit", "unit": unit}))  # fmt: skip
            # 409: a retried request whose first attempt was taken; its mail is on its way.
            if issued.status_code not in (201, 409):
                raise SignUpError(f"/v1/accounts for {unit}: {_refusal(issued)}")
            link = await self._activation_link(contact.email)
            await self._post("/v1/auth/activate", {"token": link, "password": password})
            answer = await self._post("/v1/auth/sign-in",
                                      {"email": contact.email, "password": password})  # fmt: skip
        self.signed_in += 1
        self._passwords[unit] = password
        session = _Session("", answer["refresh_token"], 0.0)
        _renew(session, answer)
        return session

    async def _activation_link(self, address: str) -> str:
        """The link of the newest activation mail to `address`, once the sink has it."""
        deadline = time.monotonic() + MAIL_WAIT_SECONDS
        while True:
            if link := activation_link(self.mails_to(address)):
                return link
            if time.monotonic() > deadline:
                raise SignUpError(f"no activation mail to {address} in {MAIL_WAIT_SECONDS:.0f} s")
            await asyncio.sleep(0.1)

    async def _post(self, path: str, body: dict[str, str]) -> dict[str, Any]:
        answer = await self.send(lambda: self.http.post(path, json=body))
        if answer.status_code != 200:
            raise SignUpError(f"{path}: {_refusal(answer)}")
        return answer.json()


def activation_link(mails: list[Path]) -> str | None:
    """The one-time token of the newest activation link among these .eml files."""
    for path in reversed(mails):
        if found := ACTIVATION_LINK.search(_text(path)):
            return found.group(1)
    return None


def _renew(session: _Session, answer: dict[str, Any]) -> None:
    session.access_token = answer["access_token"]
    session.refresh_token = answer["refresh_token"]
    session.renew_at = time.monotonic() + max(answer["expires_in"] - 60, 1)


def _refusal(answer: httpx.Response) -> str:
    """The status and the problem's detail: never the body as such, which could echo what was
    sent (a password, a link)."""
    try:
        detail = answer.json().get("detail", "")
    except ValueError:
        detail = ""
    return f"{answer.status_code} {str(detail)[:300]}"


def _text(path: Path) -> str:
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    assert isinstance(message, EmailMessage)
    body = message.get_body(("plain",))
    return body.get_content() if body is not None else ""
