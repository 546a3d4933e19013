"""The national summary: what counts, how the kinds of unit add up, what the months show."""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from smonth_reports.domain import KINDS, ReadModel, national_summary, publication_triggers
from smonth_reports.report import Report
from smonth_shared.campaign import Campaign

SHANGHAI = ZoneInfo("Asia/Shanghai")
AFTER_DEADLINE = datetime(2021, 7, 6, 9, 0, tzinfo=SHANGHAI)  # the summary's publication moment


def snapshot(as_of: date, **indicators: int) -> dict[str, Any]:
    return {"as_of": as_of, "indicators": indicators}


def test_totals_are_the_sum_of_the_snapshots_each_unit_counts(
    campaign: Campaign, model: ReadModel
) -> None:
    summary = national_summary(campaign, model, AFTER_DEADLINE)
    for code in campaign.indicator_codes:
        expected = sum(s["indicators"][code] for s in model.progress.values())
        assert summary["totals"][code] == expected


def test_the_kinds_of_unit_add_up_to_the_national_total(report: Report) -> None:
    summary = report.summary
    for code, total in summary["totals"].items():
        assert sum(summary["totals_by_kind"][kind][code] for kind in KINDS) == total
    for key, value in summary["units"].items():
        if key != "by_kind":
            assert sum(summary["units"]["by_kind"][kind][key] for kind in KINDS) == value


def test_every_addressed_unit_is_expected_and_only_those_with_a_snapshot_reported(
    campaign: Campaign,
) -> None:
    model = ReadModel(progress={"44": snapshot(date(2021, 6, 20), drills=3)})
    units = national_summary(campaign, model, AFTER_DEADLINE)["units"]
    assert units["expected"] == len(campaign.units)
    assert units["reported"] == 1
    assert units["by_kind"]["province"] == {
        "expected": 32, "reported": 1, "liaisons": 0, "summary_on_time": 0, "summary_late": 0,
        "summary_missing": 32,
    }  # fmt: skip


def test_a_unit_of_no_registry_never_counts(campaign: Campaign) -> None:
    model = ReadModel(progress={"ZZ9": snapshot(date(2021, 6, 20), drills=5)})
    assert national_summary(campaign, model, AFTER_DEADLINE)["totals"]["drills"] == 0


def test_summary_reports_are_on_time_late_or_missing(report: Report, campaign: Campaign) -> None:
    units = report.summary["units"]
    assert units["summary_on_time"] + units["summary_late"] + units["summary_missing"] == len(
        campaign.units
    )
    assert units["summary_late"] > 0 and units["summary_on_time"] > 0
    assert units["summary_missing"] > 0


def test_a_month_short_of_its_quota_is_missed_once_over_running_before_and_pending_ahead(
    report: Report,
) -> None:
    matrix = report.summary["exposure"]["matrix"]
    beijing = matrix["11"]  # the first province: no case in June, in July (see sample_model)
    assert beijing["2021-06"]["status"] == "missed"
    assert beijing["2021-07"]["status"] == "unmet"  # July runs on 6 July
    assert beijing["2021-08"]["status"] == "pending"
    assert matrix["12"]["2021-06"] == {"status": "met", "cases": 1}


def test_provinces_met_counts_each_month_and_cases_add_up(report: Report) -> None:
    exposure = report.summary["exposure"]
    matrix = exposure["matrix"]
    for month, met in exposure["provinces_met"].items():
        assert met == sum(cells[month]["status"] == "met" for cells in matrix.values())
    assert exposure["cases_total"] == sum(
        cell["cases"] for cells in matrix.values() for cell in cells.values()
    )
    assert exposure["cases_rejected"] == 1


def test_a_resolved_tip_still_counts_as_received(report: Report) -> None:
    tips = report.summary["tips"]
    assert tips["received"] == tips["verified"] + tips["unfounded"] + tips["pending"]
    assert sum(tips["by_province"].values()) == tips["received"]
    assert sum(tips["by_industry"].values()) == tips["received"]
    assert sum(tips["by_day"].values()) > 0


def test_the_summary_is_published_at_each_month_end_and_the_day_after_the_deadline(
    campaign: Campaign,
) -> None:
    triggers = publication_triggers(campaign)
    assert triggers[datetime(2021, 7, 1, 0, 0, tzinfo=SHANGHAI)] == "month_end:2021-06"
    assert triggers[datetime(2021, 7, 6, 9, 0, tzinfo=SHANGHAI)] == "after_deadline"
    assert triggers[datetime(2022, 1, 1, 0, 0, tzinfo=SHANGHAI)] == "month_end:2021-12"
    assert list(triggers) == list(campaign.publication_times)
