"""The national summary, computed from the read model and the campaign; no I/O here.

Only the units of the campaign's registry count, each with its newest snapshot (the read model
keeps no other), so the totals of the three kinds of unit add up to the national total.
"""

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import cache
from typing import Any, Literal

from smonth_reports.chinese import cn_amount
from smonth_shared.campaign import Campaign, UnitKind

Row = Mapping[str, Any]
KINDS: tuple[UnitKind, ...] = ("province", "ministry", "central_enterprise")
MonthStatus = Literal["met", "unmet", "missed", "pending"]
SummaryStatus = Literal["on_time", "late", "missing"]


@dataclass(frozen=True)
class ReadModel:
    """What the consumers recorded for one campaign, as rows keyed the way the summary needs."""

    version: int = 0  # of the whole read model (migration 004): equal versions, equal rows
    progress: Mapping[str, Row] = field(default_factory=dict)  # unit → as_of, indicators
    liaisons: Mapping[str, Row] = field(default_factory=dict)  # unit → the liaison
    summaries: Mapping[str, Row] = field(default_factory=dict)  # unit → receipts, on_time
    materials: Iterable[Row] = ()  # unit, kind, count
    cases: Iterable[Row] = ()  # province, rejected, count
    compliance: Iterable[Row] = ()  # province, month, cases_counted, status, closed
    tips: Iterable[Row] = ()  # province, industry, status, count, rectified, reward_paid, named
    tips_by_day: Iterable[Row] = ()  # day, count
    reminders: Iterable[Row] = ()  # at, unit, reason, occasion, channel, ..., outcome, error


def summary_status(summary: Row | None) -> SummaryStatus:
    if summary is None:
        return "missing"
    return "on_time" if summary["on_time"] else "late"


def indicator_values(campaign: Campaign, snapshot: Row | None) -> dict[str, int | None]:
    """A unit's figures by indicator: None where it reported nothing (or nothing yet)."""
    reported = snapshot["indicators"] if snapshot else {}
    return {code: reported.get(code) for code in campaign.indicator_codes}


def totals_of(campaign: Campaign, model: ReadModel, units: Iterable[str]) -> dict[str, int]:
    codes = campaign.indicator_codes
    totals = dict.fromkeys(codes, 0)
    for unit in units:
        if snapshot := model.progress.get(unit):
            reported = snapshot["indicators"]
            for code in codes:
                totals[code] += reported.get(code) or 0
    return totals


def units_of(campaign: Campaign, kind: UnitKind | None = None) -> list[str]:
    return [u.code for u in campaign.units if kind is None or u.kind == kind]


def month_status(month: str, row: Row | None, today: date) -> MonthStatus:
    """met from exposure's own verdict; otherwise missed once the month is over by the clock
    (`today` in the campaign's time zone), unmet while it runs, pending before it starts."""
    if row is not None and row["status"] == "met":
        return "met"
    first, after = _month_span(month)
    if today >= after or (row is not None and row["closed"]):
        return "missed"
    return "unmet" if today >= first else "pending"


@cache
def _month_span(month: str) -> tuple[date, date]:
    """The first day of `month` (YYYY-MM) and of the month after it."""
    first = date.fromisoformat(f"{month}-01")
    return first, _next_month(first)


def exposure_matrix(
    campaign: Campaign, model: ReadModel, now: datetime
) -> dict[str, dict[str, dict[str, Any]]]:
    """province → month → {status, cases}."""
    rows = {(r["province"], r["month"]): r for r in model.compliance}
    today = now.astimezone(campaign.tz).date()
    return {
        p.code: {
            month: {
                "status": month_status(month, row := rows.get((p.code, month)), today),
                "cases": row["cases_counted"] if row is not None else 0,
            }
            for month in campaign.exposure_months
        }
        for p in campaign.provinces
    }


def units_section(campaign: Campaign, model: ReadModel) -> dict[str, Any]:
    def counts(codes: list[str]) -> dict[str, int]:
        statuses = Counter(summary_status(model.summaries.get(code)) for code in codes)
        return {
            "expected": len(codes),
            "reported": sum(code in model.progress for code in codes),
            "liaisons": sum(code in model.liaisons for code in codes),
            "summary_on_time": statuses["on_time"],
            "summary_late": statuses["late"],
            "summary_missing": statuses["missing"],
        }

    by_kind = {kind: counts(units_of(campaign, kind)) for kind in KINDS}
    return {**counts(units_of(campaign)), "by_kind": by_kind}


def exposure_section(campaign: Campaign, model: ReadModel, now: datetime) -> dict[str, Any]:
    matrix = exposure_matrix(campaign, model, now)
    cases = Counter()
    provinces = {p.code for p in campaign.provinces}
    for row in model.cases:
        if row["province"] in provinces:
            cases["rejected" if row["rejected"] else "accepted"] += row["count"]
    return {
        "cases_total": sum(cell["cases"] for months in matrix.values() for cell in months.values()),
        "provinces": len(matrix),
        "quota": campaign.exposure.min_cases_per_province_per_month,
        "provinces_met": {
            month: sum(months[month]["status"] == "met" for months in matrix.values())
            for month in campaign.exposure_months
        },
        "cases_reported": cases["accepted"] + cases["rejected"],
        "cases_rejected": cases["rejected"],
        "matrix": matrix,
    }


def tips_section(campaign: Campaign, model: ReadModel) -> dict[str, Any]:
    by_province: Counter[str] = Counter({p.code: 0 for p in campaign.provinces})
    by_industry: Counter[str] = Counter({i.code: 0 for i in campaign.industries})
    totals: Counter[str] = Counter()
    for row in model.tips:
        by_province[row["province"]] += row["count"]
        by_industry[row["industry"]] += row["count"]
        totals[row["status"]] += row["count"]
        for flag in ("rectified", "reward_paid", "named"):
            totals[flag] += row[flag]
    received = totals["received"] + totals["verified"] + totals["unfounded"]
    return {
        "received": received,
        "verified": totals["verified"],
        "unfounded": totals["unfounded"],
        "pending": totals["received"],
        "rectified": totals["rectified"],
        "reward_paid": totals["reward_paid"],
        "named": totals["named"],
        "by_province": dict(by_province),
        "by_industry": dict(by_industry),
        "by_day": {row["day"].isoformat(): row["count"] for row in model.tips_by_day},
    }


def materials_section(campaign: Campaign, model: ReadModel) -> dict[str, Any]:
    registered = set(units_of(campaign))
    rows = [row for row in model.materials if row["unit"] in registered]
    by_kind = Counter({"practice": 0, "video": 0, "picture": 0})
    for row in rows:
        by_kind[row["kind"]] += row["count"]
    return {
        "total": sum(by_kind.values()),
        "by_kind": dict(by_kind),
        "units": len({row["unit"] for row in rows}),
    }


def reminders_section(model: ReadModel) -> dict[str, int]:
    outcomes = Counter(row["outcome"] for row in model.reminders)
    return {"sent": outcomes["sent"], "failed": outcomes["failed"]}


def publication_triggers(campaign: Campaign) -> dict[datetime, str]:
    """Each moment of `campaign.publication_times` and why: month_end:YYYY-MM or after_deadline."""
    tz = campaign.tz
    triggers: dict[datetime, str] = {}
    for pub in campaign.publications:
        if pub.anchor == "summary_deadline":
            day = campaign.summary_deadline.astimezone(tz).date() + timedelta(days=pub.days_after)
            triggers[datetime.combine(day, pub.at, tzinfo=tz)] = "after_deadline"
            continue
        for month in campaign.exposure_months:
            last = _next_month(date.fromisoformat(f"{month}-01")) - timedelta(days=1)
            moment = datetime.combine(last + timedelta(days=pub.days_after), pub.at, tzinfo=tz)
            triggers.setdefault(moment, f"month_end:{month}")
    return {moment: triggers.get(moment, "scheduled") for moment in campaign.publication_times}


def _next_month(first: date) -> date:
    return (first.replace(day=28) + timedelta(days=4)).replace(day=1)


def national_summary(campaign: Campaign, model: ReadModel, now: datetime) -> dict[str, Any]:
    """The JSON of CONTRACT.md (and more), without the communique, which is written from it."""
    totals = totals_of(campaign, model, units_of(campaign))
    return {
        "campaign": campaign.id,
        "as_of": now.astimezone(campaign.tz).replace(microsecond=0).isoformat(),
        "totals": totals,
        "units": units_section(campaign, model),
        "exposure": exposure_section(campaign, model, now),
        "tips": tips_section(campaign, model),
        "totals_text": {
            code: cn_amount(value, campaign.indicator(code).unit) for code, value in totals.items()
        },
        "totals_by_kind": {
            kind: totals_of(campaign, model, units_of(campaign, kind)) for kind in KINDS
        },
        "materials": materials_section(campaign, model),
        "reminders": reminders_section(model),
        "title": campaign.title,
        "theme": campaign.theme,
        "edition": campaign.edition,
        "summary_deadline": campaign.summary_deadline.isoformat(),
        "indicators": [
            {"code": i.code, "label": i.label, "unit": i.unit, "line": i.line}
            for i in campaign.indicators
        ],
        "labels": {
            "kinds": {kind: campaign.unit_kind_label(kind) for kind in KINDS},
            "provinces": {p.code: p.name for p in campaign.provinces},
            "industries": {i.code: i.label for i in campaign.industries},
        },
    }
