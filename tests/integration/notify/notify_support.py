"""What notify's integration tests share: the recording servers, the wiring, the events."""

import asyncio
import contextlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from typing import Any
from uuid import uuid4

import asyncpg
from aiosmtpd.controller import Controller

from smonth_notify import handlers, repository
from smonth_notify.channels import EmailSender, Sender
from smonth_notify.domain import Channel, Planner
from smonth_notify.handlers import Delivery
from smonth_shared.backoff import Backoff
from smonth_shared.campaign import load_campaign
from smonth_shared.consumer import EventProcessor, Record
from smonth_shared.events import (
    Envelope,
    LiaisonDesignated,
    MonthAssessed,
    Payload,
    SummarySubmitted,
    new_event,
)
from smonth_shared.outbox import Outbox

CAMPAIGN = load_campaign("2021")
OFFICE_FALLBACK = "office-fallback@example.cn"
MAX_ATTEMPTS = 3
RETRY_INTERVAL = timedelta(minutes=10)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Mailbox:
    host: str
    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    # A recipient the server is slow to accept (the next n times, this many seconds each).
    slow: dict[str, tuple[int, float]] = field(default_factory=dict)
    # The SMTP server answers on a thread of its own: a test waits here for its next mail.
    arrived: threading.Condition = field(default_factory=threading.Condition, repr=False)

    def answer_slowly(self, recipient: str, *, times: int, seconds: float) -> None:
        self.slow[recipient] = (times, seconds)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        times, seconds = self.slow.get(address, (0, 0.0))
        if times > 0:
            self.slow[address] = (times - 1, seconds)
            await asyncio.sleep(seconds)
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.arrived:
            self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
            self.recipients.append(list(envelope.rcpt_tos))
            self.raw.append(envelope.content)
            self.arrived.notify_all()
        return "250 Message accepted for delivery"

    async def mail_to(self, address: str, nth: int = 0, *, within: float = 60.0) -> EmailMessage:
        """The `nth` mail to `address`, once the server has taken it."""

        def wait() -> EmailMessage:
            with self.arrived:
                if not self.arrived.wait_for(lambda: len(self.to(address)) > nth, within):
                    raise AssertionError(f"no mail {nth + 1} to {address} within {within} s")
                return self.to(address)[nth]

        return await asyncio.to_thread(wait)

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    @classmethod
    @contextlib.contextmanager
    def serving(cls) -> Iterator["Mailbox"]:
        """A real SMTP server (aiosmtpd) on a free port of 127.0.0.1, holding what it is sent."""
        mailbox = cls("127.0.0.1", free_port())
        controller = Controller(mailbox, hostname=mailbox.host, port=mailbox.port)
        controller.start()
        try:
            yield mailbox
        finally:
            controller.stop()

    def header(self, n: int, name: str) -> str:
        """A header as a mail client shows it (the parser of policy.default puts a space between
        adjacent encoded words of an address's display name, which RFC 2047 says to drop)."""
        return str(make_header(decode_header(message_from_bytes(self.raw[n])[name])))


@dataclass
class SmsGateway:
    url: str = ""
    status: int = 200
    requests: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)


class StoppedClock:
    """The time the test says it is."""

    def __init__(self) -> None:
        self.instant = datetime(2021, 6, 1, tzinfo=CAMPAIGN.tz)

    def now(self) -> datetime:
        return self.instant


class RefuseDeadLetters:
    async def send(self, record: Record, error: str) -> None:
        raise AssertionError(f"notify dead-lettered an event: {error}")


class Notify:
    """notify's use cases wired to the real database, SMTP server and SMS gateway."""

    def __init__(self, pool: asyncpg.Pool, senders: dict[Channel, Sender]) -> None:
        self.pool = pool
        self.clock = StoppedClock()
        self.planner = Planner(CAMPAIGN)
        self.delivery = Delivery(
            pool=pool, outbox=Outbox("notify"), planner=self.planner, senders=senders,
            fallback_email=OFFICE_FALLBACK, max_attempts=MAX_ATTEMPTS,
            now=lambda: self.clock.now(),  # late: a test may give the clock another time
            backoff=lambda: Backoff(initial=0.01, maximum=0.05), retry_interval=RETRY_INTERVAL,
        )  # fmt: skip
        self.processor = EventProcessor(
            consumer="notify", pool=pool, dead_letters=RefuseDeadLetters(),  # type: ignore[arg-type]
            effects=handlers.EFFECTS,
        )  # fmt: skip

    async def receive(self, *payloads: Payload) -> list[Envelope]:
        """The events, through the inbox exactly as the subscriber applies them."""
        events = [
            new_event(
                p,
                source="test",
                time=self.clock.now(),
                campaign="2021",
                subject=getattr(p, "unit", None) or p.province,
            )
            for p in payloads
        ]
        for event in events:
            await self.processor.process_one(Record(event.topic.name, 0, 0, event.subject.encode(),
                                                    event.to_bytes()))  # fmt: skip
        return events

    async def plan_at(self, when: datetime) -> int:
        self.clock.instant = when
        await handlers.expire(
            when, pool=self.pool, planner=self.planner, outbox=self.delivery.outbox
        )
        return await handlers.plan(when, pool=self.pool, planner=self.planner)

    async def send(self, unit: str) -> None:
        for row in await self.reminders(unit, status="planned"):
            await handlers.deliver(row["id"], delivery=self.delivery)

    def with_sender(self, channel: Channel, sender: Sender) -> Delivery:
        """The same delivery with another sender for one channel."""
        return replace(self.delivery, senders={**self.delivery.senders, channel: sender})

    async def statuses(self) -> dict[tuple[str, str], int]:
        """How many reminders each channel has in each status, read in one statement."""
        rows = await self.pool.fetch(
            "SELECT channel, status, count(*) AS n FROM reminders GROUP BY channel, status"
        )
        return {(row["channel"], row["status"]): row["n"] for row in rows}

    async def reminders(self, unit: str, status: str | None = None) -> list[asyncpg.Record]:
        return await repository.reminders(self.pool, "2021", unit=unit, status=status)  # type: ignore[arg-type]

    async def published(self) -> list[Envelope]:
        rows = await self.pool.fetch("SELECT value FROM outbox ORDER BY seq")
        return [Envelope.from_bytes(row["value"]) for row in rows]


def quick_to_give_up(mailbox: Mailbox) -> EmailSender:
    """An e-mail sender that waits two seconds for each answer of the server (the service's
    default is ten), for tests of a slow server that must not take minutes."""
    return EmailSender(host=mailbox.host, port=mailbox.port, sender="notify@anquanyue.example",
                       sender_name=CAMPAIGN.office.name, timeout=2.0)  # fmt: skip


def at(day: str, time: str = "09:00") -> datetime:
    return datetime.fromisoformat(f"{day}T{time}").replace(tzinfo=CAMPAIGN.tz)


def liaison(unit: str, name: str = "张佳", email: str = "liaison@example.cn",
            mobile: str = "13800000000") -> LiaisonDesignated:  # fmt: skip
    return LiaisonDesignated(unit=unit, name=name, position="科长", office_phone="010-12345678",
                             mobile=mobile, email=email, designated_at=at("2021-06-02"))  # fmt: skip


def summary(unit: str) -> SummarySubmitted:
    received = at("2021-07-05", "10:00")
    return SummarySubmitted(report_id=uuid4(), unit=unit, title="总结报告", body="……",
                            received_at=received, on_time=True, first_received_at=received)  # fmt: skip


def assessed(province: str, month: str, status: str) -> MonthAssessed:
    counted = 1 if status == "met" else 0
    return MonthAssessed(province=province, month=month, cases_counted=counted, quota=1,
                         status=status, closed=False)  # type: ignore[arg-type]  # fmt: skip
