"""Reminders through a real SMTP server and a real SMS gateway, recorded in the real database."""

import asyncio

import pytest

from smonth_notify import handlers, repository
from smonth_notify.channels import Sender
from smonth_notify.messages import Message
from smonth_shared.events import ReminderOutcome
from tests.integration.notify.notify_support import (
    MAX_ATTEMPTS,
    OFFICE_FALLBACK,
    RETRY_INTERVAL,
    Mailbox,
    Notify,
    SmsGateway,
    assessed,
    at,
    liaison,
    quick_to_give_up,
    summary,
)

pytestmark = pytest.mark.integration

GUANGDONG, BEIJING = "44", "11"


async def test_the_liaison_receives_an_email_with_the_chinese_subject_and_an_sms(
    notify: Notify, smtp_server: Mailbox, sms_gateway: SmsGateway
) -> None:
    await notify.receive(liaison(GUANGDONG, email="gd-liaison@example.cn"))
    await notify.plan_at(at("2021-07-05"))
    await notify.send(GUANGDONG)

    [email] = smtp_server.messages
    assert email["Subject"] == "【2021年全国“安全生产月”】今天是活动总结报告报送截止日"
    assert email["To"] == "gd-liaison@example.cn"
    assert (
        smtp_server.header(0, "From")
        == "全国“安全生产月”活动组委会办公室 <notify@anquanyue.example>"
    )
    assert email.get_content().startswith("张佳同志：")
    [(headers, body)] = sms_gateway.requests
    assert body["to"] == "13800000000" and body["text"].startswith("【安全生产月】广东省：")
    rows = await notify.reminders(GUANGDONG)
    assert {(r["channel"], r["status"], r["attempts"]) for r in rows} == {
        ("email", "sent", 1), ("sms", "sent", 1)
    }  # fmt: skip
    assert headers["Idempotency-Key"] in {str(r["id"]) for r in rows}
    events = await notify.published()
    assert [e.type for e in events] == ["reminder.sent", "reminder.sent"]
    outcome = ReminderOutcome.model_validate(events[0].data)
    assert (events[0].subject, outcome.reason, outcome.occasion) == (
        GUANGDONG, "summary_due", "deadline+0"
    )  # fmt: skip


async def test_a_unit_without_a_liaison_is_reminded_through_the_offices_fallback_mailbox(
    notify: Notify, smtp_server: Mailbox, sms_gateway: SmsGateway
) -> None:
    await notify.plan_at(at("2021-06-04"))
    await notify.send(GUANGDONG)

    [email] = smtp_server.to(OFFICE_FALLBACK)
    assert email["Subject"] == "【2021年全国“安全生产月”】请明确1名活动联络员"
    assert email.get_content().startswith("（广东省尚未明确联络员")
    assert sms_gateway.requests == []
    sms = [r for r in await notify.reminders(GUANGDONG) if r["channel"] == "sms"]
    assert [(r["status"], r["note"]) for r in sms] == [
        ("cancelled", "no mobile number: the unit has not designated a liaison")
    ]


async def test_a_gateway_refusing_the_message_for_good_fails_the_reminder_at_once(
    notify: Notify, smtp_server: Mailbox, sms_gateway: SmsGateway
) -> None:
    sms_gateway.status = 400
    await notify.receive(liaison(GUANGDONG))
    await notify.plan_at(at("2021-06-30"))
    await notify.send(GUANGDONG)

    # Two occasions that day (summary due in 3 working days, the June quota's last day).
    assert len(sms_gateway.requests) == 2
    sms = [r for r in await notify.reminders(GUANGDONG) if r["channel"] == "sms"]
    assert {(r["status"], r["attempts"], r["note"]) for r in sms} == {
        ("failed", 1, "SMS gateway answered 400")
    }
    failed = [e for e in await notify.published() if e.type == "reminder.failed"]
    assert len(failed) == 2
    outcome = ReminderOutcome.model_validate(failed[0].data)
    assert (outcome.channel, outcome.attempts, outcome.recipient) == ("sms", 1, "13800000000")
    assert len(smtp_server.messages) == 2  # the e-mails went out all the same


async def test_a_gateway_that_is_away_postpones_the_reminder_instead_of_failing_it(
    notify: Notify, sms_gateway: SmsGateway
) -> None:
    sms_gateway.status = 503
    await notify.receive(liaison(GUANGDONG))
    await notify.plan_at(at("2021-06-30"))
    await notify.send(GUANGDONG)

    assert len(sms_gateway.requests) == 2 * MAX_ATTEMPTS
    assert len({h["Idempotency-Key"] for h, _ in sms_gateway.requests}) == 2
    sms = [r for r in await notify.reminders(GUANGDONG) if r["channel"] == "sms"]
    assert {(r["status"], r["attempts"], r["note"], r["retry_at"]) for r in sms} == {
        ("planned", MAX_ATTEMPTS, "SMS gateway answered 503", at("2021-06-30") + RETRY_INTERVAL)
    }
    assert "reminder.failed" not in {e.type for e in await notify.published()}

    sms_gateway.status = 200
    notify.clock.instant = at("2021-06-30") + RETRY_INTERVAL
    await notify.send(GUANGDONG)
    sms = [r for r in await notify.reminders(GUANGDONG) if r["channel"] == "sms"]
    assert {(r["status"], r["attempts"], r["note"]) for r in sms} == {
        ("sent", MAX_ATTEMPTS + 1, None)
    }
    assert len(sms_gateway.requests) == 2 * MAX_ATTEMPTS + 2


async def test_a_reminder_the_gateway_never_took_on_its_day_fails_the_next_day_with_its_error(
    notify: Notify, sms_gateway: SmsGateway
) -> None:
    sms_gateway.status = 503
    await notify.receive(liaison(GUANGDONG))
    await notify.plan_at(at("2021-06-30"))
    await notify.send(GUANGDONG)

    await notify.plan_at(at("2021-07-01"))

    sms = [r for r in await notify.reminders(GUANGDONG) if r["channel"] == "sms"]
    assert {(r["status"], r["note"]) for r in sms} == {
        ("failed", "not delivered on its day (2021-06-30): SMS gateway answered 503")
    }
    failed = [e for e in await notify.published() if e.type == "reminder.failed"]
    assert len(failed) == 2
    outcome = ReminderOutcome.model_validate(failed[0].data)
    assert (outcome.attempts, outcome.recipient, outcome.error) == (
        MAX_ATTEMPTS, "13800000000", "not delivered on its day (2021-06-30): SMS gateway answered 503"
    )  # fmt: skip


async def test_a_mail_server_too_slow_to_answer_costs_a_reminder_a_delay_not_its_delivery(
    notify: Notify, smtp_server: Mailbox
) -> None:
    await notify.receive(liaison(GUANGDONG, email="gd-liaison@example.cn"))
    await notify.plan_at(at("2021-07-05"))
    smtp_server.answer_slowly("gd-liaison@example.cn", times=MAX_ATTEMPTS, seconds=4.0)
    delivery = notify.with_sender("email", quick_to_give_up(smtp_server))
    [email] = [r for r in await notify.reminders(GUANGDONG) if r["channel"] == "email"]

    assert await handlers.deliver(email["id"], delivery=delivery) == "planned"
    [email] = [r for r in await notify.reminders(GUANGDONG) if r["channel"] == "email"]
    assert (email["status"], email["attempts"]) == ("planned", MAX_ATTEMPTS)
    assert "Timed out" in email["note"]

    notify.clock.instant = email["retry_at"]
    assert await handlers.deliver(email["id"], delivery=delivery) == "sent"
    assert len(smtp_server.to("gd-liaison@example.cn")) == 1
    assert [e.type for e in await notify.published()] == ["reminder.sent"]


async def test_a_month_met_cancels_its_planned_reminders(
    notify: Notify, smtp_server: Mailbox
) -> None:
    await notify.plan_at(at("2021-06-15"))
    await notify.receive(
        assessed(GUANGDONG, "2021-06", "met"), assessed(BEIJING, "2021-06", "unmet")
    )
    await notify.send(GUANGDONG)

    assert smtp_server.messages == []
    assert {(r["status"], r["note"]) for r in await notify.reminders(GUANGDONG)} == {
        ("cancelled", "complied: exposure quota of 2021-06 met")
    }
    assert {r["status"] for r in await notify.reminders(BEIJING)} == {"planned"}
    # Later occasions of June are not even planned for Guangdong; July's are.
    await notify.plan_at(at("2021-06-29"))
    assert await notify.reminders(GUANGDONG, status="planned") == []
    await notify.plan_at(at("2021-07-14"))
    assert len(await notify.reminders(GUANGDONG, status="planned")) == 2


async def test_a_summary_received_cancels_the_summary_reminders_of_the_day(
    notify: Notify, smtp_server: Mailbox
) -> None:
    await notify.plan_at(at("2021-07-05"))
    await notify.receive(summary(GUANGDONG))
    await notify.send(GUANGDONG)
    assert smtp_server.messages == []
    await notify.plan_at(at("2021-07-06"))
    assert [r["occasion"] for r in await notify.reminders(GUANGDONG)] == ["deadline+0"] * 2


async def test_planning_and_sending_twice_sends_each_reminder_once(
    notify: Notify, smtp_server: Mailbox, sms_gateway: SmsGateway
) -> None:
    await notify.receive(liaison(GUANGDONG))
    assert await notify.plan_at(at("2021-07-05")) == 2 * 101
    assert await notify.plan_at(at("2021-07-05", "17:00")) == 0
    await asyncio.gather(notify.send(GUANGDONG), notify.send(GUANGDONG))  # two senders at once
    for row in await notify.reminders(GUANGDONG):  # and once more, each by its id
        await handlers.deliver(row["id"], delivery=notify.delivery)

    assert len(smtp_server.to("liaison@example.cn")) == 1
    assert len(sms_gateway.requests) == 1
    assert [e.type for e in await notify.published()] == ["reminder.sent"] * 2


async def test_a_reminder_left_sending_by_a_stopped_sender_is_sent_once_after_the_restart(
    notify: Notify, smtp_server: Mailbox
) -> None:
    await notify.plan_at(at("2021-07-05"))
    [email] = [r for r in await notify.reminders(GUANGDONG) if r["channel"] == "email"]
    async with notify.pool.acquire() as conn:
        await repository.claim(conn, email["id"])  # marked 'sending'; the process dies here

    await notify.send(GUANGDONG)  # another sender leaves it alone: it is someone's
    assert smtp_server.messages == []
    await repository.release_interrupted(notify.pool, "2021")  # the restarted scheduler
    await notify.send(GUANGDONG)
    await notify.send(GUANGDONG)

    assert len(smtp_server.to(OFFICE_FALLBACK)) == 1
    [row] = [r for r in await notify.reminders(GUANGDONG) if r["channel"] == "email"]
    assert (row["status"], row["attempts"]) == ("sent", 2)
    assert [e.type for e in await notify.published()] == ["reminder.sent"]


class StopsAfterTheServerAccepted:
    """A sender whose process is stopped between the server's 250 and the 'sent' mark."""

    def __init__(self, sender: Sender) -> None:
        self.sender = sender

    async def send(self, to: str, message: Message, **kwargs: object) -> None:
        await self.sender.send(to, message, **kwargs)  # type: ignore[arg-type]
        raise asyncio.CancelledError


async def test_a_reminder_stopped_after_the_server_accepted_it_goes_again_with_its_message_id(
    notify: Notify, smtp_server: Mailbox
) -> None:
    await notify.plan_at(at("2021-07-05"))
    [email] = [r for r in await notify.reminders(GUANGDONG) if r["channel"] == "email"]
    senders = dict(notify.delivery.senders)
    stopping = handlers.Delivery(**{**notify.delivery.__dict__, "senders": {
        **senders, "email": StopsAfterTheServerAccepted(senders["email"])}})  # fmt: skip
    with pytest.raises(asyncio.CancelledError):
        await handlers.deliver(email["id"], delivery=stopping)

    await repository.release_interrupted(notify.pool, "2021")
    await handlers.deliver(email["id"], delivery=notify.delivery)

    # The one duplicate at-least-once allows, recognisable by its Message-ID.
    first, second = smtp_server.to(OFFICE_FALLBACK)
    assert first["Message-ID"] == second["Message-ID"] == f"<{email['id']}@notify.safety-month>"
    assert [e.type for e in await notify.published()] == ["reminder.sent"]


async def test_a_reminder_of_an_earlier_day_is_never_sent_late(
    notify: Notify, smtp_server: Mailbox
) -> None:
    await notify.plan_at(at("2021-06-29"))
    await notify.plan_at(at("2021-06-30"))
    await notify.send(GUANGDONG)
    rows = {(r["occasion"], r["status"]) for r in await notify.reminders(GUANGDONG)}
    assert ("2021-06:-2", "cancelled") in rows and ("2021-06:-1", "sent") in rows
    assert {m["Subject"] for m in smtp_server.messages} == {
        "【2021年全国“安全生产月”】请报送2021年6月典型案例曝光情况",
        "【2021年全国“安全生产月”】请于2021年7月5日前报送活动总结报告",
    }
