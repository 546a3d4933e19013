"""The scheduler on the simulated clock, and the reminders over HTTP."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from types import SimpleNamespace

import httpx
import pytest
from fastapi import FastAPI

from smonth_notify import api
from smonth_notify.config import NotifySettings
from smonth_notify.scheduler import Scheduler
from smonth_shared.auth import TokenVerifier, issue_token
from smonth_shared.clock import SimulatedClock
from smonth_shared.problems import install_problem_handlers
from tests import polling
from tests.integration.notify.notify_support import (
    CAMPAIGN,
    MAX_ATTEMPTS,
    OFFICE_FALLBACK,
    RETRY_INTERVAL,
    Mailbox,
    Notify,
    at,
    liaison,
    quick_to_give_up,
)

pytestmark = pytest.mark.integration

UNITS = 101


def scheduler(notify: Notify, database_url: str, clock: SimulatedClock) -> Scheduler:
    notify.clock.now = clock.now  # type: ignore[method-assign]
    return Scheduler(dsn=database_url, clock=clock, delivery=notify.delivery, concurrency=8,
                     standby_interval=0.05)  # fmt: skip


@contextlib.asynccontextmanager
async def running(*schedulers: Scheduler) -> AsyncIterator[None]:
    """Schedulers as the service runs them (in the background), stopped at the end of the block."""
    tasks = [asyncio.create_task(s.run()) for s in schedulers]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def eventually(check: Callable[[], Awaitable[bool]], seconds: float = 60.0) -> None:
    """Polls a condition on the database, which no event of this process can signal."""
    await polling.eventually(check, within=seconds, interval=0.02)


def statuses_are(
    notify: Notify, expected: dict[tuple[str, str], int]
) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await notify.statuses() == expected

    return check


async def test_two_schedulers_send_the_days_reminders_once_at_nine_on_the_simulated_clock(
    notify: Notify, smtp_server: Mailbox, database_url: str
) -> None:
    clock = SimulatedClock(at("2021-07-05", "08:59:58"), speed=10)
    one, other = scheduler(notify, database_url, clock), scheduler(notify, database_url, clock)
    async with running(one, other):
        # No unit has named a liaison: every e-mail goes to the office, no SMS has a number.
        await eventually(statuses_are(notify, {("email", "sent"): UNITS,
                                               ("sms", "cancelled"): UNITS}))  # fmt: skip
        assert clock.now() >= at("2021-07-05")

    assert len(smtp_server.to(OFFICE_FALLBACK)) == UNITS
    assert {m["Subject"] for m in smtp_server.messages} == {
        "【2021年全国“安全生产月”】今天是活动总结报告报送截止日"
    }
    assert len(await notify.published()) == UNITS


async def test_after_a_restart_the_scheduler_catches_up_on_today_without_sending_twice(
    notify: Notify, smtp_server: Mailbox, database_url: str
) -> None:
    await notify.receive(liaison("44"))
    every_one_sent = {("email", "sent"): UNITS, ("sms", "sent"): 1,
                      ("sms", "cancelled"): UNITS - 1}  # fmt: skip
    # Started at three in the afternoon: the reminders of nine are caught up on.
    first = scheduler(notify, database_url, SimulatedClock(at("2021-07-05", "15:00"), speed=1))
    async with running(first), asyncio.timeout(60):
        await first.settled.wait()
    assert await notify.statuses() == every_one_sent

    restarted = scheduler(notify, database_url, SimulatedClock(at("2021-07-05", "16:00"), speed=1))
    async with running(restarted), asyncio.timeout(60):
        await restarted.settled.wait()  # it has planned and sent what today still owes: nothing

    assert await notify.statuses() == every_one_sent
    assert len(smtp_server.messages) == UNITS
    assert len(smtp_server.to("liaison@example.cn")) == 1


async def test_the_scheduler_tries_a_reminder_the_mail_server_was_too_slow_for_again_later(
    notify: Notify, smtp_server: Mailbox, database_url: str
) -> None:
    """A mail server that times out more often than a sender tries in a row costs the reminder
    a delay, not its delivery: the scheduler wakes at its retry time and sends it then."""
    await notify.receive(liaison("44"))
    smtp_server.answer_slowly("liaison@example.cn", times=MAX_ATTEMPTS, seconds=4.0)
    notify.delivery = notify.with_sender("email", quick_to_give_up(smtp_server))
    # Ten simulated minutes (the retry interval) go by in a wall second.
    clock = SimulatedClock(at("2021-07-05", "08:59:59"), speed=600)
    async with running(scheduler(notify, database_url, clock)):
        await eventually(liaison_email_is("sent", notify))

    [email] = [r for r in await notify.reminders("44") if r["channel"] == "email"]
    assert email["attempts"] == MAX_ATTEMPTS + 1
    assert at("2021-07-05") + RETRY_INTERVAL <= email["retry_at"] <= email["finished_at"]
    assert len(smtp_server.to("liaison@example.cn")) == 1
    assert "reminder.failed" not in {e.type for e in await notify.published()}


def liaison_email_is(status: str, notify: Notify) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        rows = await notify.reminders("44")
        return [r["status"] for r in rows if r["channel"] == "email"] == [status]

    return check


@pytest.fixture
async def client(notify: Notify, jwt_secret: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = NotifySettings(safety_month_jwt_secret=jwt_secret)
    app = FastAPI()
    install_problem_handlers(app)
    app.include_router(
        api.router(
            SimpleNamespace(
                settings=settings,
                pool=notify.pool,
                verifier=TokenVerifier(settings.safety_month_jwt_secret),
            ),
            office_tz=CAMPAIGN.tz,
        )
    )  # type: ignore[arg-type]
    await notify.receive(liaison("44"))
    await notify.plan_at(at("2021-06-04"))
    await notify.plan_at(at("2021-07-05"))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://notify") as c:
        yield c


def bearer(secret: str, role: str, unit: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(secret, role=role, unit=unit)}"}  # type: ignore[arg-type]


async def test_the_office_sees_every_reminder_with_its_reason_and_status(
    client: httpx.AsyncClient, jwt_secret: str
) -> None:
    response = await client.get("/v1/reminders", headers=bearer(jwt_secret, "staff"))
    assert response.status_code == 200
    reminders = response.json()
    assert len(reminders) == 2 * (UNITS - 1) + 2 * UNITS  # 44 named its liaison before 4 June
    [june, july] = [r for r in reminders if r["unit"] == "11" and r["channel"] == "email"]
    assert (june["reason"], june["occasion"], june["send_at"]) == (
        "liaison_missing", "start+3", "2021-06-04T09:00:00+08:00"
    )  # fmt: skip
    # The test's sender never ran on 4 June: the next day's planning expired it.
    assert (june["status"], june["note"]) == (
        "cancelled",
        "not sent on its day (2021-06-04); expired",
    )
    assert (july["reason"], july["occasion"], july["status"]) == (
        "summary_due", "deadline+0", "planned"
    )  # fmt: skip


async def test_the_office_can_ask_for_one_units_reminders_in_one_status(
    client: httpx.AsyncClient, jwt_secret: str
) -> None:
    response = await client.get("/v1/reminders", params={"unit": "44", "status": "planned"},
                                headers=bearer(jwt_secret, "admin"))  # fmt: skip
    assert {(r["unit"], r["reason"], r["channel"]) for r in response.json()} == {
        ("44", "summary_due", "email"), ("44", "summary_due", "sms")
    }  # fmt: skip


async def test_a_unit_sees_its_own_reminders_and_no_other_units(
    client: httpx.AsyncClient, jwt_secret: str
) -> None:
    own = await client.get("/v1/reminders", headers=bearer(jwt_secret, "unit", "44"))
    assert {r["unit"] for r in own.json()} == {"44"}
    other = await client.get("/v1/reminders", params={"unit": "11"},
                             headers=bearer(jwt_secret, "unit", "44"))  # fmt: skip
    assert other.status_code == 403
    assert other.headers["content-type"] == "application/problem+json"
    assert "只能查看本单位的提醒" in other.json()["detail_zh"]


async def test_reading_reminders_needs_a_token_and_a_known_status(
    client: httpx.AsyncClient, jwt_secret: str
) -> None:
    assert (await client.get("/v1/reminders")).status_code == 401
    wrong = await client.get("/v1/reminders", params={"status": "lost"},
                             headers=bearer(jwt_secret, "staff"))  # fmt: skip
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["loc"] == ["query", "status"]
