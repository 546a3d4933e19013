"""When reminders fall due and to whom: the planner, pure rules over the campaign file.

Each policy of the campaign file yields occasions (a reason, a working day, a time of day). On an
occasion's day every unit that still owes what the reason is about gets one reminder per channel;
past the daily cap, the rest of a unit's occasions that day are recorded as cancelled.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import Literal

from smonth_shared import working_days
from smonth_shared.campaign import Campaign, ReminderPolicy, Unit

Reason = Literal["liaison_missing", "summary_due", "exposure_quota"]
Channel = Literal["email", "sms"]
Status = Literal["planned", "sending", "sent", "failed", "cancelled"]
Wording = Literal[
    "liaison_missing", "summary_due.before", "summary_due.day", "summary_due.overdue",
    "exposure_quota",
]  # fmt: skip


@dataclass(frozen=True)
class Occasion:
    """One moment a policy fires, e.g. summary_due three working days before the deadline."""

    reason: Reason
    occasion: str  # which one of the reason's: 'start+3', 'deadline-3', '2021-06:-1'...
    day: date
    send_at: datetime
    channels: tuple[Channel, ...]
    wording: Wording
    month: str | None = None  # the exposure month (YYYY-MM) an exposure_quota occasion is about


@dataclass(frozen=True)
class Standing:
    """What a unit has done so far, as notify has heard it from the events."""

    unit: str
    has_liaison: bool = False
    summary_submitted: bool = False
    months_met: frozenset[str] = frozenset()

    def owes(self, occasion: Occasion) -> bool:
        match occasion.reason:
            case "liaison_missing":
                return not self.has_liaison
            case "summary_due":
                return not self.summary_submitted
            case "exposure_quota":
                return occasion.month not in self.months_met


@dataclass(frozen=True)
class Reminder:
    unit: str
    occasion: Occasion
    channel: Channel
    over_cap: bool = False

    @property
    def reason(self) -> Reason:
        return self.occasion.reason


@dataclass(frozen=True)
class Contact:
    name: str
    email: str
    mobile: str


class Planner:
    def __init__(
        self,
        campaign: Campaign,
        *,
        channels: Iterable[Channel] = ("email", "sms"),
        daily_cap: int | None = None,
    ) -> None:
        self.campaign = campaign
        self.channels = frozenset(channels)
        self.daily_cap = daily_cap or campaign.reminders.daily_cap_per_unit

    @cached_property
    def occasions(self) -> tuple[Occasion, ...]:
        """Every occasion of the campaign, by time, then in the campaign file's order of policies
        (which is also their priority under the daily cap)."""
        found = [o for policy in self.campaign.reminders.policies for o in self._of(policy)]
        return tuple(sorted(found, key=lambda o: o.send_at))

    def occasion(self, reason: str, occasion: str) -> Occasion | None:
        return self._by_key.get((reason, occasion))

    @cached_property
    def _by_key(self) -> dict[tuple[str, str], Occasion]:
        return {(o.reason, o.occasion): o for o in self.occasions}

    def occasions_on(self, day: date) -> tuple[Occasion, ...]:
        return tuple(o for o in self.occasions if o.day == day)

    def next_send_time(self, after: datetime) -> datetime | None:
        return next((o.send_at for o in self.occasions if o.send_at > after), None)

    def reminders_on(self, day: date, standings: Mapping[str, Standing]) -> list[Reminder]:
        return self._for_units(self.occasions_on(day), standings)

    def reminders_due(self, now: datetime, standings: Mapping[str, Standing]) -> list[Reminder]:
        """Today's reminders whose time has come (all of them when catching up after a restart)."""
        today = now.astimezone(self.campaign.tz).date()
        return self._for_units([o for o in self.occasions_on(today) if o.send_at <= now], standings)

    def _for_units(
        self, occasions: Iterable[Occasion], standings: Mapping[str, Standing]
    ) -> list[Reminder]:
        occasions = list(occasions)
        reminders: list[Reminder] = []
        for unit in self.campaign.units:
            standing = standings.get(unit.code) or Standing(unit.code)
            owed = [o for o in occasions if _applies_to(o, unit) and standing.owes(o)]
            reminders += [
                Reminder(unit.code, o, channel, over_cap=rank >= self.daily_cap)
                for rank, o in enumerate(owed)
                for channel in o.channels
            ]
        return reminders

    def _of(self, policy: ReminderPolicy) -> list[Occasion]:
        channels: tuple[Channel, ...] = tuple(c for c in policy.channels if c in self.channels)
        if not channels:
            return []
        tz, campaign = self.campaign.tz, self.campaign

        def at(day: date) -> datetime:
            return datetime.combine(day, policy.send_at, tzinfo=tz)

        if policy.kind == "exposure_quota":
            occasions = []
            for month in campaign.exposure_months:
                year, number = (int(part) for part in month.split("-"))
                working = working_days.in_month(year, number)
                for n in policy.working_days:
                    day = working[n - 1 if n > 0 else n]
                    if campaign.is_in_exposure_window(day):
                        occasions.append(Occasion(
                            "exposure_quota", f"{month}:{n:+d}", day, at(day), channels,
                            "exposure_quota", month=month,
                        ))  # fmt: skip
            return occasions
        if policy.kind == "liaison_missing":
            start = campaign.month.start
            return [
                Occasion(
                    "liaison_missing", f"start{n:+d}", day, at(day), channels, "liaison_missing"
                )
                for n in policy.working_days
                for day in [working_days.shift(start, n)]
            ]
        deadline = campaign.summary_deadline.astimezone(tz).date()
        return [
            Occasion("summary_due", f"deadline{n:+d}", day, at(day), channels, _summary_wording(n))
            for n in policy.working_days
            for day in [working_days.shift(deadline, n)]
        ]


def _applies_to(occasion: Occasion, unit: Unit) -> bool:
    """The monthly case quota binds the provincial units only; the rest binds every unit."""
    return occasion.reason != "exposure_quota" or unit.kind == "province"


def _summary_wording(offset: int) -> Wording:
    if offset < 0:
        return "summary_due.before"
    return "summary_due.day" if offset == 0 else "summary_due.overdue"


def address(channel: Channel, liaison: Contact | None, fallback_email: str) -> str | None:
    """Where a reminder goes: the liaison, else (e-mail only) the office's fallback mailbox."""
    if channel == "email":
        return liaison.email if liaison and liaison.email else fallback_email
    return liaison.mobile if liaison and liaison.mobile else None
