"""The national summary, computed from the read model's aggregates; no I/O here."""

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any


def tips_section(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    by_province: Counter[str] = Counter()
    by_industry: Counter[str] = Counter()
    by_status: Counter[str] = Counter()
    for row in rows:
        by_province[row["province"]] += row["tips"]
        by_industry[row["industry"]] += row["tips"]
        by_status[row["status"]] += row["tips"]
    return {
        "received": sum(by_status.values()),
        "verified": by_status["verified"],
        "unfounded": by_status["unfounded"],
        "by_province": dict(sorted(by_province.items())),
        "by_industry": dict(sorted(by_industry.items())),
    }


def exposure_section(rows: Iterable[Mapping[str, Any]], months: Iterable[str]) -> dict[str, Any]:
    rows = list(rows)
    met = Counter(row["month"] for row in rows if row["status"] == "met")
    return {
        "cases_total": sum(row["cases_counted"] for row in rows),
        "provinces_met": {month: met[month] for month in months},
    }


def national_summary(
    campaign: str, as_of: datetime, *, tips: dict[str, Any], exposure: dict[str, Any]
) -> dict[str, Any]:
    return {"campaign": campaign, "as_of": as_of.isoformat(), "tips": tips, "exposure": exposure}
