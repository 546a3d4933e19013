"""Figures in the communique are written the way the office's press releases write them."""

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from smonth_reports.chinese import cn_amount, cn_moment, cn_number
from smonth_reports.domain import ReadModel
from smonth_reports.report import build_report
from smonth_shared.campaign import Campaign

SHANGHAI = ZoneInfo("Asia/Shanghai")
AFTER_DEADLINE = datetime(2021, 7, 6, 9, 0, tzinfo=SHANGHAI)  # the summary's publication moment


def snapshot(as_of: date, **indicators: int) -> dict[str, Any]:
    return {"as_of": as_of, "indicators": indicators}


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (0, "0"),
        (9_999, "9999"),
        (10_000, "1万"),
        (10_001, "1万"),
        (15_000, "1.5万"),
        (77_000, "7.7万"),
        (2_045_000, "204.5万"),
        (9_999_950, "1000万"),
        (19_340_000, "1934万"),
        (99_999_999, "1亿"),
        (100_000_000, "1亿"),
        (123_456_789, "1.2亿"),
        (230_000_000, "2.3亿"),
    ],
)
def test_figures_are_written_in_wan_and_yi_from_ten_thousand_on(value: int, written: str) -> None:
    assert cn_number(value) == written


def test_the_press_release_figures_come_out_as_published() -> None:
    assert cn_amount(19_340_000, "人次") == "1934万人次"
    assert cn_amount(114_000, "条次") == "11.4万条次"
    assert cn_amount(250_000_000, "份") == "2.5亿份"
    assert cn_amount(230_000_000, "份") == "2.3亿份"


def test_a_moment_is_written_to_the_hour_and_minute_when_it_has_one() -> None:
    assert cn_moment(AFTER_DEADLINE) == "2021年7月6日9时"
    assert cn_moment(AFTER_DEADLINE.replace(minute=30)) == "2021年7月6日9时30分"


def test_the_communique_gives_the_national_figures_the_chinese_way(campaign: Campaign) -> None:
    model = ReadModel(progress={
        "11": snapshot(AFTER_DEADLINE.date(), study_participants=19_000_000, tips_received=100_000,
                       materials_distributed=200_000_000),
        "M01": snapshot(AFTER_DEADLINE.date(), study_participants=340_000, tips_received=14_000,
                        materials_distributed=30_000_000),
    })  # fmt: skip
    text = build_report(campaign, model, AFTER_DEADLINE).summary["communique"]
    assert "学习活动参与人次1934万人次" in text
    assert "受理重大隐患和违法违规行为举报11.4万条次" in text
    assert "发放宣传材料2.3亿份" in text
    assert "（截至2021年7月6日9时）" in text
