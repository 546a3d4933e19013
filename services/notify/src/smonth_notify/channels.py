"""The two ways a reminder leaves: e-mail over SMTP and SMS through an HTTP gateway.

A sender makes one attempt and raises `DeliveryError` when it fails; retrying is the caller's.
Each message carries the reminder's id (the e-mail's Message-ID, the gateway's Idempotency-Key),
so a reminder sent again after a crash can be recognised as the same one downstream.
"""

from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Protocol
from uuid import UUID

import aiosmtplib
import httpx

from smonth_notify.messages import Message


class DeliveryError(Exception):
    """The server refused or could not be reached; the message did not leave.

    `permanent` when this message will never be taken (a 5xx reply, an address that cannot be
    written): trying again is pointless. Anything else (a time-out, a refused connection, a 4xx
    reply, a gateway's 5xx) passes, and the reminder is tried again later."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Sender(Protocol):
    async def send(self, to: str, message: Message, *, reminder_id: UUID, at: datetime) -> None: ...


class EmailSender:
    def __init__(
        self, *, host: str, port: int, sender: str, sender_name: str, timeout: float
    ) -> None:
        self.host = host
        self.port = port
        self.sender = sender
        self.sender_name = sender_name
        self.timeout = timeout

    async def send(self, to: str, message: Message, *, reminder_id: UUID, at: datetime) -> None:
        try:
            email = EmailMessage()
            email["From"] = Address(self.sender_name, addr_spec=self.sender)
            email["To"] = to
            email["Subject"] = message.subject
            email["Date"] = format_datetime(at)
            email["Message-ID"] = f"<{reminder_id}@notify.safety-month>"
            email.set_content(message.text)
        except (ValueError, TypeError) as error:  # e.g. an address that cannot be parsed
            raise DeliveryError(f"message not composed: {error}", permanent=True) from error
        try:
            await aiosmtplib.send(email, hostname=self.host, port=self.port, timeout=self.timeout)
        except aiosmtplib.SMTPRecipientsRefused as error:
            codes = [refusal.code for refusal in error.recipients]
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {error}",
                                permanent=all(code >= 500 for code in codes)) from error  # fmt: skip
        except aiosmtplib.SMTPResponseException as error:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {error}",
                                permanent=error.code >= 500) from error  # fmt: skip
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise DeliveryError(f"SMTP {self.host}:{self.port}: {error}") from error


# A gateway's answers that say "not now" rather than "never": timed out, too early, too many.
PASSING = frozenset({408, 425, 429})


class SmsSender:
    def __init__(self, client: httpx.AsyncClient, *, url: str) -> None:
        self.client = client
        self.url = url

    async def send(self, to: str, message: Message, *, reminder_id: UUID, at: datetime) -> None:
        try:
            response = await self.client.post(
                self.url, json={"to": to, "text": message.sms},
                headers={"Idempotency-Key": str(reminder_id)},
            )  # fmt: skip
            response.raise_for_status()
        except httpx.HTTPStatusError as error:
            status = error.response.status_code
            raise DeliveryError(f"SMS gateway answered {status}",
                                permanent=400 <= status < 500 and status not in PASSING) from error  # fmt: skip
        except httpx.HTTPError as error:
            raise DeliveryError(f"SMS gateway: {type(error).__name__}: {error}") from error
