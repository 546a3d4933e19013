"""The rules of the exposure quota, without I/O: the month a case counts in, whether it counts and
why not, and the status of a province-month. Time is always passed in."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from smonth_shared.campaign import Campaign
from smonth_shared.events import MonthAssessed

Status = Literal["met", "unmet", "missed"]


@dataclass(frozen=True)
class Verdict:
    """Whether a case counts toward its province-month, and if not, why (English and Chinese)."""

    counted: bool
    reason: str | None = None
    reason_zh: str | None = None


COUNTED = Verdict(counted=True)


@dataclass(frozen=True)
class Rejection:
    reason: str
    rejected_by: str
    rejected_at: datetime


class CaseNotFound(LookupError):
    def __init__(self, case_id: UUID) -> None:
        super().__init__(f"no case {case_id}")
        self.case_id = case_id


class CaseAlreadyRejected(ValueError):
    def __init__(self, case_id: UUID, rejection: Rejection) -> None:
        super().__init__(f"case {case_id} is already rejected")
        self.case_id = case_id
        self.rejection = rejection


def month_of(published_on: date) -> str:
    """A case counts in the month it was published: a date is already office time (YYYY-MM)."""
    return f"{published_on:%Y-%m}"


def month_closes_at(month: str, tz: ZoneInfo) -> datetime:
    """The first instant of the next month in office time: when `month` is over."""
    year, number = (int(part) for part in month.split("-"))
    return datetime(year + number // 12, number % 12 + 1, 1, tzinfo=tz)


def judge(campaign: Campaign, case_campaign: str, province: str, published_on: date) -> Verdict:
    """The verdict on receipt: a case counts if it belongs to this campaign, comes from one of its
    provincial units and was published inside the exposure window."""
    reasons: list[tuple[str, str]] = []
    if case_campaign != campaign.id:
        reasons.append((
            f"the case belongs to campaign {case_campaign}; this service tracks campaign {campaign.id}",
            f"该案例属于{case_campaign}年活动，本系统统计的是{campaign.id}年活动",
        ))  # fmt: skip
    if province not in {unit.code for unit in campaign.provinces}:
        reasons.append((
            f"{province} is not one of the {len(campaign.provinces)} provincial units of campaign"
            f" {campaign.id}",
            f"{province} 不是本次活动的{len(campaign.provinces)}个省级单位之一",
        ))  # fmt: skip
    if not campaign.is_in_exposure_window(published_on):
        start, end = campaign.exposure.start, campaign.exposure.end
        reasons.append((
            f"published_on {published_on} is outside the exposure window {start}..{end}",
            f"发布日期 {published_on} 不在“安全生产万里行”曝光期（{start} 至 {end}）内",
        ))  # fmt: skip
    if not reasons:
        return COUNTED
    return Verdict(
        counted=False,
        reason="; ".join(en for en, _ in reasons),
        reason_zh="；".join(zh for _, zh in reasons),
    )


def standing(verdict: Verdict, rejection: Rejection | None, tz: ZoneInfo) -> Verdict:
    """Whether a case counts now: its verdict on receipt, unless the office rejected it."""
    if rejection is None:
        return verdict
    day = rejection.rejected_at.astimezone(tz).date()
    reason = f"rejected by {rejection.rejected_by} on {day}: {rejection.reason}"
    reason_zh = f"已于 {day} 被退回（{rejection.rejected_by}）：{rejection.reason}"
    if not verdict.counted:
        reason, reason_zh = f"{reason}; {verdict.reason}", f"{reason_zh}；{verdict.reason_zh}"
    return Verdict(counted=False, reason=reason, reason_zh=reason_zh)


@dataclass(frozen=True)
class ProvinceMonth:
    """One province's tally for one month against the quota."""

    province: str
    month: str
    cases_counted: int
    quota: int
    closed: bool = False

    @property
    def status(self) -> Status:
        """met once the quota is reached; short of it, unmet while open and missed once closed."""
        if self.cases_counted >= self.quota:
            return "met"
        return "missed" if self.closed else "unmet"

    def counting(self, change: int) -> "ProvinceMonth":
        """A case that starts (+1) or stops (-1) counting; a month may be recounted after it
        closes, since a case published in time can be reported or rejected late."""
        return replace(self, cases_counted=self.cases_counted + change)

    def closing(self) -> "ProvinceMonth":
        return replace(self, closed=True)

    def assessment(self) -> MonthAssessed:
        return MonthAssessed(
            province=self.province, month=self.month, cases_counted=self.cases_counted,
            quota=self.quota, status=self.status, closed=self.closed,
        )  # fmt: skip


def matrix(
    provinces: Sequence[str],
    months: Sequence[str],
    quota: int,
    tallies: Mapping[tuple[str, str], tuple[int, bool]],
) -> list[ProvinceMonth]:
    """Every province × month, with (cases counted, closed) where a tally exists, else nothing yet."""
    cells = []
    for province in provinces:
        for month in months:
            counted, closed = tallies.get((province, month), (0, False))
            cells.append(ProvinceMonth(province, month, counted, quota, closed))
    return cells
