"""The reminder planner over the 2021 campaign file, June and July 2021: which days fire what."""

from datetime import date, datetime, timedelta

import pytest

from smonth_notify.domain import Contact, Planner, Standing, address
from smonth_shared import working_days
from smonth_shared.campaign import ReminderPolicy, load_campaign

CAMPAIGN = load_campaign("2021")
JUNE_AND_JULY = [date(2021, 6, 1) + timedelta(days=n) for n in range(61)]
GUANGDONG, EMERGENCY_MINISTRY = "44", "M01"

# What a province that does nothing at all is reminded of, and when (09:00 office time).
EVERYTHING_OWED = {
    date(2021, 6, 4): ["liaison_missing start+3"],  # 3rd working day after 1 June
    # 10th working day of June: the Dragon Boat holiday (12-14 June) pushes it to the 15th.
    date(2021, 6, 15): ["exposure_quota 2021-06:+10"],
    date(2021, 6, 29): ["exposure_quota 2021-06:-2"],
    date(2021, 6, 30): ["exposure_quota 2021-06:-1", "summary_due deadline-3"],
    date(2021, 7, 5): ["summary_due deadline+0"],  # the deadline, a Monday
    date(2021, 7, 6): ["summary_due deadline+1"],  # overdue, the next working day
    date(2021, 7, 14): ["exposure_quota 2021-07:+10"],
    date(2021, 7, 29): ["exposure_quota 2021-07:-2"],
    date(2021, 7, 30): ["exposure_quota 2021-07:-1"],
}


@pytest.fixture
def planner() -> Planner:
    return Planner(CAMPAIGN)


def fired(
    planner: Planner, unit: str, standing_on: dict[date, Standing] | None = None
) -> dict[date, list[str]]:
    """Day by day, what `unit` is reminded of; `standing_on` says what it has done from a day on."""
    standing = Standing(unit)
    found: dict[date, list[str]] = {}
    for day in JUNE_AND_JULY:
        standing = (standing_on or {}).get(day, standing)
        reminders = [r for r in planner.reminders_on(day, {unit: standing}) if r.unit == unit]
        if reminders:
            found[day] = sorted({f"{r.reason} {r.occasion.occasion}" for r in reminders})
    return found


def test_a_province_that_owes_everything_is_reminded_on_these_working_days(
    planner: Planner,
) -> None:
    assert fired(planner, GUANGDONG) == EVERYTHING_OWED


def test_a_ministry_is_reminded_of_its_liaison_and_summary_but_never_of_the_case_quota(
    planner: Planner,
) -> None:
    assert fired(planner, EMERGENCY_MINISTRY) == {
        day: [r for r in reasons if not r.startswith("exposure_quota")]
        for day, reasons in EVERYTHING_OWED.items()
        if day not in (date(2021, 6, 15), date(2021, 6, 29), date(2021, 7, 14),
                       date(2021, 7, 29), date(2021, 7, 30))
    }  # fmt: skip


def test_nothing_is_sent_on_weekends_or_on_the_dragon_boat_holiday(planner: Planner) -> None:
    for day in (date(2021, 6, 12), date(2021, 6, 13), date(2021, 6, 14)):
        assert planner.reminders_on(day, {}) == []
    for day in JUNE_AND_JULY:
        if planner.reminders_on(day, {}):
            assert working_days.is_working_day(day), day


def test_a_unit_that_submits_its_summary_gets_no_summary_reminder_afterwards(
    planner: Planner,
) -> None:
    submitted = Standing(GUANGDONG, summary_submitted=True)
    reasons = fired(planner, GUANGDONG, {date(2021, 7, 2): submitted})
    assert reasons[date(2021, 6, 30)] == ["exposure_quota 2021-06:-1", "summary_due deadline-3"]
    assert date(2021, 7, 5) not in reasons and date(2021, 7, 6) not in reasons
    assert reasons[date(2021, 7, 14)] == ["exposure_quota 2021-07:+10"]


def test_a_province_whose_june_case_is_counted_gets_no_more_june_quota_reminders(
    planner: Planner,
) -> None:
    met_june = Standing(GUANGDONG, months_met=frozenset({"2021-06"}))
    reasons = fired(planner, GUANGDONG, {date(2021, 6, 16): met_june})
    assert reasons[date(2021, 6, 15)] == ["exposure_quota 2021-06:+10"]
    assert date(2021, 6, 29) not in reasons
    assert reasons[date(2021, 6, 30)] == ["summary_due deadline-3"]
    assert [d for d, r in reasons.items() if any("2021-07" in x for x in r)] == [
        date(2021, 7, 14), date(2021, 7, 29), date(2021, 7, 30)
    ]  # fmt: skip


def test_a_unit_with_a_liaison_is_never_asked_to_designate_one(planner: Planner) -> None:
    reasons = fired(planner, GUANGDONG, {date(2021, 6, 1): Standing(GUANGDONG, has_liaison=True)})
    assert date(2021, 6, 4) not in reasons


def test_every_unit_of_the_registry_that_owes_is_reminded_by_email_and_by_sms(
    planner: Planner,
) -> None:
    reminders = planner.reminders_on(date(2021, 6, 4), {})
    assert {(r.unit, r.channel) for r in reminders} == {
        (u.code, channel) for u in CAMPAIGN.units for channel in ("email", "sms")
    }
    assert len(CAMPAIGN.units) == 101


def test_a_channel_without_a_sender_is_not_planned() -> None:
    email_only = Planner(CAMPAIGN, channels=["email"])
    assert {r.channel for r in email_only.reminders_on(date(2021, 6, 4), {})} == {"email"}


def test_beyond_the_daily_cap_the_units_further_reminders_of_the_day_are_over_the_cap() -> None:
    one_a_day = Planner(CAMPAIGN, daily_cap=1)
    reminders = [r for r in one_a_day.reminders_on(date(2021, 6, 30), {}) if r.unit == GUANGDONG]
    assert {(r.reason, r.over_cap) for r in reminders} == {
        ("summary_due", False), ("exposure_quota", True)
    }  # fmt: skip


def test_the_shipped_daily_cap_of_three_is_never_reached_in_2021(planner: Planner) -> None:
    assert planner.daily_cap == 3
    assert not any(r.over_cap for day in JUNE_AND_JULY for r in planner.reminders_on(day, {}))


def test_reminders_fall_due_at_nine_in_the_morning_office_time(planner: Planner) -> None:
    nine = datetime(2021, 6, 4, 9, 0, tzinfo=CAMPAIGN.tz)
    assert planner.reminders_due(nine - timedelta(seconds=1), {}) == []
    assert {r.reason for r in planner.reminders_due(nine, {})} == {"liaison_missing"}
    # Catching up later the same day still finds them; the next day does not.
    assert planner.reminders_due(nine + timedelta(hours=8), {})
    assert planner.reminders_due(nine + timedelta(days=1), {}) == []
    assert planner.next_send_time(nine - timedelta(days=3)) == nine
    assert planner.next_send_time(nine) == datetime(2021, 6, 15, 9, 0, tzinfo=CAMPAIGN.tz)


def test_after_the_last_occasion_of_the_campaign_nothing_is_scheduled(planner: Planner) -> None:
    last = planner.occasions[-1]
    assert last.day == date(2021, 12, 31)  # the last working day of December
    assert planner.next_send_time(last.send_at) is None


@pytest.mark.parametrize("policy", CAMPAIGN.reminders.policies, ids=lambda p: p.kind)
def test_the_planner_fires_on_the_days_the_campaign_file_computes(
    planner: Planner, policy: ReminderPolicy
) -> None:
    days = sorted({o.day for o in planner.occasions if o.reason == policy.kind})
    assert tuple(days) == CAMPAIGN.reminder_days(policy)


def test_a_reminder_goes_to_the_liaison_or_else_by_email_to_the_office() -> None:
    liaison = Contact("张佳", "zhang@example.cn", "13800000000")
    assert address("email", liaison, "office@example.cn") == "zhang@example.cn"
    assert address("sms", liaison, "office@example.cn") == "13800000000"
    assert address("email", None, "office@example.cn") == "office@example.cn"
    assert address("sms", None, "office@example.cn") is None
