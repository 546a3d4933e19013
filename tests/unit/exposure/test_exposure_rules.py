"""The rules of the exposure quota (smonth_exposure.domain), with the shipped 2021 campaign."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from smonth_exposure.domain import (
    COUNTED,
    ProvinceMonth,
    Rejection,
    Verdict,
    judge,
    matrix,
    month_closes_at,
    month_of,
    standing,
)
from smonth_shared.campaign import Campaign, load_campaign

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def campaign() -> Campaign:
    return load_campaign("2021")


def june(cases_counted: int, *, closed: bool = False) -> ProvinceMonth:
    return ProvinceMonth("44", "2021-06", cases_counted, quota=1, closed=closed)


def test_a_case_counts_in_the_month_of_its_publication_date() -> None:
    assert month_of(date(2021, 6, 30)) == "2021-06"
    assert month_of(date(2021, 7, 1)) == "2021-07"
    assert month_of(date(2022, 1, 3)) == "2022-01"


def test_a_month_closes_at_the_first_instant_of_the_next_month_in_office_time() -> None:
    assert month_closes_at("2021-06", SHANGHAI) == datetime(2021, 7, 1, tzinfo=SHANGHAI)
    # Midnight in Beijing is 16:00 UTC the day before.
    assert month_closes_at("2021-06", SHANGHAI) == datetime(2021, 6, 30, 16, tzinfo=UTC)


def test_december_closes_on_new_years_day() -> None:
    assert month_closes_at("2021-12", SHANGHAI) == datetime(2022, 1, 1, tzinfo=SHANGHAI)


@pytest.mark.parametrize("published_on", [date(2021, 6, 1), date(2021, 9, 15), date(2021, 12, 31)])
def test_a_provincial_case_published_in_the_window_counts(
    campaign: Campaign, published_on: date
) -> None:
    assert judge(campaign, "2021", "44", published_on) == COUNTED


def test_the_xinjiang_production_and_construction_corps_counts_as_a_provincial_unit(
    campaign: Campaign,
) -> None:
    assert judge(campaign, "2021", "66", date(2021, 6, 16)).counted


@pytest.mark.parametrize("published_on", [date(2021, 5, 31), date(2022, 1, 3)])
def test_a_case_published_outside_the_window_is_not_counted_and_says_why(
    campaign: Campaign, published_on: date
) -> None:
    verdict = judge(campaign, "2021", "44", published_on)
    assert not verdict.counted
    assert verdict.reason == (
        f"published_on {published_on} is outside the exposure window 2021-06-01..2021-12-31"
    )
    assert verdict.reason_zh is not None
    assert "不在“安全生产万里行”曝光期（2021-06-01 至 2021-12-31）内" in verdict.reason_zh


def test_a_case_from_a_code_that_is_no_provincial_unit_is_not_counted(
    campaign: Campaign,
) -> None:
    verdict = judge(campaign, "2021", "81", date(2021, 6, 16))
    assert not verdict.counted
    assert verdict.reason == "81 is not one of the 32 provincial units of campaign 2021"
    assert verdict.reason_zh == "81 不是本次活动的32个省级单位之一"


def test_a_case_of_another_campaign_is_not_counted_in_this_one(campaign: Campaign) -> None:
    verdict = judge(campaign, "2022", "44", date(2021, 6, 16))
    assert not verdict.counted
    assert verdict.reason is not None and "campaign 2022" in verdict.reason


def test_every_reason_a_case_does_not_count_is_given(campaign: Campaign) -> None:
    verdict = judge(campaign, "2021", "99", date(2022, 1, 3))
    assert verdict.reason is not None and verdict.reason_zh is not None
    assert verdict.reason.count("; ") == 1
    assert verdict.reason_zh.count("；") == 1


def test_a_rejected_case_no_longer_counts_and_the_rejection_is_the_reason() -> None:
    rejection = Rejection("not a provincial outlet", "staff", datetime(2021, 6, 20, 17, tzinfo=UTC))
    now = standing(COUNTED, rejection, SHANGHAI)
    assert not now.counted
    # 17:00 UTC on the 20th is already the 21st in Beijing.
    assert now.reason == "rejected by staff on 2021-06-21: not a provincial outlet"
    assert now.reason_zh == "已于 2021-06-21 被退回（staff）：not a provincial outlet"


def test_a_case_that_did_not_count_keeps_its_first_reason_when_also_rejected() -> None:
    outside = Verdict(False, "outside", "期外")
    rejection = Rejection("duplicate", "staff", datetime(2021, 6, 20, tzinfo=UTC))
    now = standing(outside, rejection, SHANGHAI)
    assert now.reason is not None and now.reason.endswith("; outside")
    assert now.reason_zh is not None and now.reason_zh.endswith("；期外")


def test_an_unrejected_case_stands_as_judged() -> None:
    assert standing(COUNTED, None, SHANGHAI) == COUNTED


def test_an_open_month_short_of_its_quota_is_unmet() -> None:
    assert june(0).status == "unmet"


def test_a_counted_case_turns_an_unmet_month_met() -> None:
    assert june(0).counting(+1).status == "met"


def test_a_second_case_keeps_the_month_met() -> None:
    assert june(1).counting(+1).status == "met"


def test_a_rejection_turns_a_met_open_month_back_to_unmet() -> None:
    assert june(1).counting(-1).status == "unmet"


def test_a_month_closing_short_of_its_quota_is_missed() -> None:
    assert june(0).closing().status == "missed"


def test_a_month_closing_with_its_quota_stays_met_and_closed() -> None:
    closed = june(1).closing()
    assert (closed.status, closed.closed) == ("met", True)


def test_a_rejection_after_the_month_closed_turns_it_missed() -> None:
    assert june(1, closed=True).counting(-1).status == "missed"


def test_a_case_published_in_time_but_reported_after_the_close_turns_missed_to_met() -> None:
    assert june(0, closed=True).counting(+1).status == "met"


def test_a_higher_quota_needs_that_many_cases() -> None:
    tally = ProvinceMonth("44", "2021-06", 1, quota=2)
    assert tally.status == "unmet"
    assert tally.counting(+1).status == "met"


def test_the_assessment_carries_the_tally_and_its_status() -> None:
    assessed = june(1, closed=True).assessment()
    assert assessed.model_dump() == {
        "province": "44", "month": "2021-06", "cases_counted": 1, "quota": 1, "status": "met",
        "closed": True,
    }  # fmt: skip


def test_the_matrix_has_every_province_and_month_even_without_cases() -> None:
    cells = matrix(["11", "44"], ["2021-06", "2021-07"], 1, {("44", "2021-06"): (2, True)})
    assert [(c.province, c.month, c.cases_counted, c.status) for c in cells] == [
        ("11", "2021-06", 0, "unmet"),
        ("11", "2021-07", 0, "unmet"),
        ("44", "2021-06", 2, "met"),
        ("44", "2021-07", 0, "unmet"),
    ]
