"""The campaign file: the shipped 2021 campaign, and what a bad file tells the operator."""

import shutil
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from smonth_shared import working_days
from smonth_shared.campaign import Campaign, CampaignFileError, ReminderKind, load_campaign

SHIPPED = Path(__file__).parents[2] / "shared/src/smonth_shared/campaigns"
SHANGHAI = timezone(timedelta(hours=8))

# FACTS.md: GB/T 2260 codes of the 32 provincial units (66 for 新疆生产建设兵团).
PROVINCES = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "66": "新疆生产建设兵团",
}  # fmt: skip

# CONTRACT.md: the 2021 statistics table.
INDICATOR_UNITS = {
    "study_sessions": "场", "study_participants": "人次", "media_reports": "篇",
    "employee_participants": "人次", "hazards_self_fixed": "条", "hazards_exposed": "条",
    "cases_exposed": "个", "tips_received": "条次", "warning_sessions": "场",
    "consult_events": "场", "consult_participants": "人次", "materials_distributed": "份",
    "drills": "场", "drill_participants": "人次", "culture_participants": "人次",
}  # fmt: skip

INDUSTRIES = {
    "hazardous_chemicals": "危险化学品", "mining": "矿山", "industry_trade": "工贸",
    "road_traffic": "道路交通", "construction": "建筑施工", "fishing_vessels": "渔业船舶",
    "other": "其他",
}  # fmt: skip


@pytest.fixture
def campaign() -> Campaign:
    return load_campaign("2021")


def variant(tmp_path: Path, old: str = "", new: str = "", drop_unit: str = "") -> Path:
    """A copy of the 2021 files with one edit, as an operator might have made it."""
    shutil.copy(SHIPPED / "units-2021.csv", tmp_path)
    toml = (SHIPPED / "2021.toml").read_text(encoding="utf-8")
    assert old in toml
    (tmp_path / "2021.toml").write_text(toml.replace(old, new, 1), encoding="utf-8")
    if drop_unit:
        registry = tmp_path / "units-2021.csv"
        rows = registry.read_text(encoding="utf-8").splitlines(keepends=True)
        kept = [r for r in rows if not r.startswith(f"{drop_unit},")]
        assert len(kept) == len(rows) - 1
        registry.write_text("".join(kept), encoding="utf-8")
    return tmp_path / "2021.toml"


def test_the_2021_campaign_loads_with_the_facts_of_the_notice(campaign: Campaign) -> None:
    assert (campaign.id, campaign.edition) == ("2021", 20)
    assert campaign.theme == "落实安全责任，推动安全发展"
    assert campaign.document == "安委办〔2021〕5号"
    assert campaign.office.name == "全国“安全生产月”活动组委会办公室"
    assert (campaign.office.phone, campaign.office.email) == ("010-64463407", "anquanyue@qq.com")
    assert (campaign.month.start, campaign.month.end) == (date(2021, 6, 1), date(2021, 6, 30))
    assert campaign.month.consultation_day == date(2021, 6, 16)
    assert campaign.exposure.min_cases_per_province_per_month == 1
    assert str(campaign.tz) == "Asia/Shanghai"


def test_the_registry_holds_the_32_provincial_units_with_their_facts_codes(
    campaign: Campaign,
) -> None:
    assert {u.code: u.name for u in campaign.provinces} == PROVINCES
    assert all(u.province == u.code for u in campaign.provinces)
    assert campaign.unit("66").name == "新疆生产建设兵团"


def test_the_registry_also_holds_ministries_and_central_enterprises(campaign: Campaign) -> None:
    kinds = [u.kind for u in campaign.units]
    assert kinds.count("ministry") >= 35
    assert kinds.count("central_enterprise") >= 30
    assert campaign.unit("M01").name == "应急管理部"
    assert campaign.unit("M01").province is None
    assert campaign.unit_kind_label("ministry") == "国务院安委会成员单位"
    assert len({u.code for u in campaign.units}) == len(campaign.units)


def test_the_catalogue_has_the_15_contract_indicators_with_their_units(
    campaign: Campaign,
) -> None:
    assert {code: campaign.indicator(code).unit for code in campaign.indicator_codes} == (
        INDICATOR_UNITS
    )
    assert {i.line for i in campaign.indicators} == {1, 2, 3, 4, 5}


def test_there_are_7_industries_of_which_6_are_key(campaign: Campaign) -> None:
    assert {code: campaign.industry_label(code) for code in INDUSTRIES} == INDUSTRIES
    assert {i.code for i in campaign.key_industries} == set(INDUSTRIES) - {"other"}


def test_the_summary_deadline_is_the_last_second_of_5_july_in_shanghai(
    campaign: Campaign,
) -> None:
    assert campaign.summary_deadline == datetime(2021, 7, 5, 23, 59, 59, tzinfo=campaign.tz)


@pytest.mark.parametrize(
    ("received_at", "on_time"),
    [
        (datetime(2021, 7, 5, 23, 0, tzinfo=SHANGHAI), True),
        (datetime(2021, 7, 5, 23, 59, 59, 999999, tzinfo=SHANGHAI), True),
        (datetime(2021, 7, 6, 0, 0, 1, tzinfo=SHANGHAI), False),
        (datetime(2021, 7, 5, 16, 30, tzinfo=UTC), False),  # 07-06 00:30 in Shanghai
        (datetime(2021, 7, 5, 15, 30, tzinfo=UTC), True),  # 07-05 23:30 in Shanghai
    ],
)
def test_a_summary_is_on_time_until_the_deadline_in_office_time(
    campaign: Campaign, received_at: datetime, on_time: bool
) -> None:
    assert campaign.summary_is_on_time(received_at) is on_time


def test_a_receipt_time_without_an_offset_is_refused(campaign: Campaign) -> None:
    with pytest.raises(ValueError, match="offset"):
        campaign.summary_is_on_time(datetime(2021, 7, 5, 12, 0))


def test_the_exposure_window_runs_from_june_to_december(campaign: Campaign) -> None:
    assert campaign.exposure_months == tuple(f"2021-{m:02d}" for m in range(6, 13))
    assert campaign.is_in_exposure_window(date(2021, 12, 31))
    assert not campaign.is_in_exposure_window(date(2022, 1, 1))
    assert campaign.is_in_progress_window(date(2021, 7, 5))
    assert not campaign.is_in_progress_window(date(2021, 7, 6))


@pytest.mark.parametrize(
    "day",
    [date(2021, 6, 12), date(2021, 6, 13), date(2021, 6, 14), date(2021, 10, 1), date(2021, 10, 7)],
)
def test_the_dragon_boat_and_national_day_holidays_are_not_working_days(day: date) -> None:
    assert not working_days.is_working_day(day)


@pytest.mark.parametrize("day", [date(2021, 9, 18), date(2021, 9, 26), date(2021, 10, 9)])
def test_the_weekend_days_worked_in_exchange_are_working_days(day: date) -> None:
    assert day.weekday() >= 5
    assert working_days.is_working_day(day)


def test_shifting_by_working_days_skips_weekends_and_holidays() -> None:
    assert working_days.shift(date(2021, 6, 11), 1) == date(2021, 6, 15)  # over 端午节
    assert working_days.shift(date(2021, 10, 11), -1) == date(2021, 10, 9)  # a Saturday worked
    assert working_days.shift(date(2021, 6, 13), 0) == date(2021, 6, 13)
    assert len(working_days.in_month(2021, 10)) == 17  # 7 days of 国庆节 off, 10-09 worked


def test_a_year_the_holiday_package_does_not_know_is_refused_rather_than_guessed() -> None:
    unknown = date(working_days.LAST_YEAR + 1, 1, 4)
    with pytest.raises(ValueError) as failure:
        working_days.is_working_day(unknown)
    assert str(unknown) in str(failure.value)
    assert f"{working_days.FIRST_YEAR}–{working_days.LAST_YEAR}" in str(failure.value)


def test_reminders_fall_on_chinas_working_days(campaign: Campaign) -> None:
    def days(kind: ReminderKind) -> tuple[date, ...]:
        policy = campaign.reminder_policy(kind)
        assert policy is not None
        return campaign.reminder_days(policy)

    assert days("liaison_missing") == (date(2021, 6, 4),)
    assert days("summary_due") == (date(2021, 6, 30), date(2021, 7, 5), date(2021, 7, 6))
    quota = days("exposure_quota")
    # June: the Dragon Boat holiday (06-14) pushes the 10th working day to the 15th.
    assert quota[:3] == (date(2021, 6, 15), date(2021, 6, 29), date(2021, 6, 30))
    # October: National Day off, Saturday 10-09 worked, so the 10th working day is the 20th.
    assert date(2021, 10, 20) in quota
    assert len(quota) == 3 * 7
    assert campaign.reminders.daily_cap_per_unit == 3
    every_day = [d for p in campaign.reminders.policies for d in campaign.reminder_days(p)]
    assert all(working_days.is_working_day(d) for d in every_day)


def test_the_national_summary_is_published_after_each_month_and_after_the_deadline(
    campaign: Campaign,
) -> None:
    times = campaign.publication_times
    assert times[0] == datetime(2021, 7, 1, tzinfo=campaign.tz)
    assert datetime(2021, 7, 6, 9, 0, tzinfo=campaign.tz) in times
    assert times[-1] == datetime(2022, 1, 1, tzinfo=campaign.tz)
    assert len(times) == 7 + 1


def test_fewer_participants_than_sessions_breaks_a_consistency_rule(campaign: Campaign) -> None:
    broken = campaign.violated_rules({"study_sessions": 10, "study_participants": 9, "drills": 3})
    assert [(r.larger, r.smaller) for r in broken] == [("study_participants", "study_sessions")]
    assert campaign.violated_rules({"study_sessions": 10, "study_participants": 10}) == ()


def test_a_loaded_campaign_is_cached() -> None:
    assert load_campaign("2021") is load_campaign("2021")


def test_a_campaign_loads_from_a_given_path(tmp_path: Path) -> None:
    path = variant(tmp_path, 'theme = "', 'theme = "（测试）')
    assert load_campaign("2021", path).theme.startswith("（测试）")


def test_a_wrong_measuring_unit_names_the_file_the_field_and_the_allowed_units(
    tmp_path: Path,
) -> None:
    path = variant(tmp_path, 'unit = "份"', 'unit = "本"')
    with pytest.raises(CampaignFileError) as failure:
        load_campaign("2021", path)
    message = str(failure.value)
    assert str(path) in message
    assert "indicators[11].unit" in message
    assert "'materials_distributed'" in message
    assert "'场', '人次'" in message
    assert "'本'" in message


def test_a_consistency_rule_naming_an_unknown_indicator_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, 'smaller = "drills"', 'smaller = "drill_count"')
    with pytest.raises(CampaignFileError, match=r"consistency\[2\]\.smaller: 'drill_count'"):
        load_campaign("2021", path)


def test_a_registry_missing_a_province_is_refused_naming_the_registry(tmp_path: Path) -> None:
    path = variant(tmp_path, drop_unit="13")
    with pytest.raises(CampaignFileError) as failure:
        load_campaign("2021", path)
    assert str(tmp_path / "units-2021.csv") in str(failure.value)
    assert "units: missing provincial units: 13" in str(failure.value)


def test_a_registry_row_of_an_unknown_kind_names_its_line(tmp_path: Path) -> None:
    path = variant(tmp_path)
    registry = tmp_path / "units-2021.csv"
    registry.write_text(
        registry.read_text().replace("M01,应急管理部,ministry", "M01,应急管理部,部委")
    )
    with pytest.raises(CampaignFileError, match=r"units-2021\.csv: line 34, kind: Input should be"):
        load_campaign("2021", path)


def test_a_summary_deadline_before_the_month_ends_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "summary_deadline = 2021-07-05", "summary_deadline = 2021-05-31")
    with pytest.raises(CampaignFileError) as failure:
        load_campaign("2021", path)
    assert f"{path}: summary_deadline: must fall after the month ends" in str(failure.value)


def test_a_deadline_without_an_offset_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "2021-07-05T23:59:59+08:00", "2021-07-05T23:59:59")
    with pytest.raises(CampaignFileError, match="summary_deadline: Input should have timezone"):
        load_campaign("2021", path)


def test_a_misspelt_key_is_refused_rather_than_ignored(tmp_path: Path) -> None:
    path = variant(tmp_path, "min_cases_per_province_per_month", "min_case_per_province_per_month")
    with pytest.raises(
        CampaignFileError, match=r"exposure\.min_case_per_province_per_month: Extra inputs"
    ):
        load_campaign("2021", path)


def test_a_reminder_beyond_the_working_days_of_a_month_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path, "working_days = [10, -2, -1]", "working_days = [20, -1]")
    with pytest.raises(
        CampaignFileError, match=r"reminders.policies\[2\].working_days: 2021-10 has only 17"
    ):
        load_campaign("2021", path)


def test_reminders_in_a_year_without_a_holiday_schedule_are_refused_at_load(
    tmp_path: Path,
) -> None:
    beyond = working_days.LAST_YEAR + 1
    path = variant(tmp_path, "end = 2021-12-31", f"end = {beyond}-12-31")
    with pytest.raises(
        CampaignFileError, match=rf"reminders.policies\[2\].working_days: {beyond}-01-01: "
    ) as failure:
        load_campaign("2021", path)
    assert f"{working_days.FIRST_YEAR}–{working_days.LAST_YEAR} only" in str(failure.value)


def test_a_file_that_is_not_toml_names_the_line(tmp_path: Path) -> None:
    path = variant(tmp_path, "edition = 20", 'edition = "20')
    with pytest.raises(CampaignFileError, match=r"not valid TOML: .*line 7"):
        load_campaign("2021", path)


def test_a_file_for_another_campaign_is_refused(tmp_path: Path) -> None:
    path = variant(tmp_path)
    with pytest.raises(CampaignFileError, match="holds campaign '2021', not '2022'"):
        load_campaign("2022", path)


def test_an_unknown_shipped_campaign_is_refused() -> None:
    with pytest.raises(CampaignFileError, match="no such campaign file"):
        load_campaign("1999")
