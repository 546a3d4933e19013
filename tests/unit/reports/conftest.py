"""The unit tests' only fake: a read model made by hand, as the consumers would have left it, and
the campaign of 2021 and the summary built from them."""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from smonth_reports.domain import ReadModel
from smonth_reports.report import Report, build_report
from smonth_shared.campaign import Campaign, load_campaign

SHANGHAI = ZoneInfo("Asia/Shanghai")
AFTER_DEADLINE = datetime(2021, 7, 6, 9, 0, tzinfo=SHANGHAI)


def snapshot(as_of: date, **indicators: int) -> dict[str, Any]:
    return {"as_of": as_of, "indicators": indicators}


def sample_model(campaign: Campaign) -> ReadModel:
    """Every third unit silent; figures that differ per unit and per indicator; late, on-time and
    missing summaries; tips of every status; a closed, a running and a future exposure month."""
    codes = campaign.indicator_codes
    progress = {
        unit.code: snapshot(date(2021, 7, 1), **{code: (n + 1) * 1_000 + i * 37
                                                 for i, code in enumerate(codes)})
        for n, unit in enumerate(campaign.units) if n % 3
    }  # fmt: skip
    liaisons = {
        unit.code: {"name": f"联络员{n}", "position": "科长", "office_phone": "010-64463407",
                    "mobile": "13800000000", "email": f"l{n}@example.cn",
                    "designated_at": datetime(2021, 6, 2, 10, tzinfo=SHANGHAI)}
        for n, unit in enumerate(campaign.units) if n % 4
    }  # fmt: skip
    summaries = {
        unit.code: {"title": f"{unit.name}活动总结", "on_time": n % 5 != 1, "submissions": 1,
                    "first_received_at": datetime(2021, 7, 5 + n % 5 // 4, 16, tzinfo=SHANGHAI),
                    "last_received_at": datetime(2021, 7, 5 + n % 5 // 4, 16, tzinfo=SHANGHAI)}
        for n, unit in enumerate(campaign.units) if n % 5
    }  # fmt: skip
    compliance = [
        {"province": p.code, "month": month, "cases_counted": n % 3,
         "status": "met" if n % 3 else "missed", "closed": month == "2021-06"}
        for n, p in enumerate(campaign.provinces) for month in ("2021-06", "2021-07")
    ]  # fmt: skip
    tips = [
        {"province": p.code, "industry": industry.code, "status": status, "count": n + k + 1,
         "rectified": 1 if status == "verified" else 0, "reward_paid": 0, "named": 1}
        for n, p in enumerate(campaign.provinces[:5])
        for k, industry in enumerate(campaign.industries)
        for status in ("received", "verified", "unfounded")
    ]  # fmt: skip
    day = date(2021, 6, 1)
    return ReadModel(
        progress=progress, liaisons=liaisons, summaries=summaries,
        materials=[{"unit": "11", "kind": "video", "count": 2},
                   {"unit": "M01", "kind": "practice", "count": 1}],
        cases=[{"province": "11", "rejected": False, "count": 3},
               {"province": "11", "rejected": True, "count": 1}],
        compliance=compliance, tips=tips,
        tips_by_day=[{"day": day + timedelta(days=n), "count": 10 * n + 1} for n in range(30)],
        reminders=[
            {"at": datetime(2021, 6, 4, 9, tzinfo=SHANGHAI), "unit": "44", "reason":
             "liaison_missing", "occasion": "campaign_start", "channel": "email",
             "recipient": "l@example.cn", "attempts": 1, "outcome": "sent", "error": None},
            {"at": datetime(2021, 7, 2, 9, tzinfo=SHANGHAI), "unit": "M01", "reason":
             "summary_due", "occasion": "before", "channel": "sms", "recipient": "13800000000",
             "attempts": 3, "outcome": "failed", "error": "gateway answered 503"},
        ],
    )  # fmt: skip


@pytest.fixture(scope="session")
def campaign() -> Campaign:
    return load_campaign("2021")


@pytest.fixture(scope="session")
def model(campaign: Campaign) -> ReadModel:
    return sample_model(campaign)


@pytest.fixture(scope="session")
def report(campaign: Campaign, model: ReadModel) -> Report:
    return build_report(campaign, model, AFTER_DEADLINE)
