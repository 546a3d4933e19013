"""What a reminder says: a Chinese subject, the facts of the campaign file, the office's signature."""

import pytest

from smonth_notify.domain import Occasion, Planner
from smonth_notify.messages import compose
from smonth_shared.campaign import load_campaign

CAMPAIGN = load_campaign("2021")
PLANNER = Planner(CAMPAIGN)
TITLE = "【2021年全国“安全生产月”】"


def occasion(reason: str, name: str) -> Occasion:
    found = PLANNER.occasion(reason, name)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("reason", "name", "subject"),
    [
        ("liaison_missing", "start+3", "请明确1名活动联络员"),
        ("summary_due", "deadline-3", "请于2021年7月5日前报送活动总结报告"),
        ("summary_due", "deadline+0", "今天是活动总结报告报送截止日"),
        ("summary_due", "deadline+1", "活动总结报告已逾期，请尽快报送"),
        ("exposure_quota", "2021-06:-1", "请报送2021年6月典型案例曝光情况"),
    ],
)
def test_each_occasion_has_its_chinese_subject(reason: str, name: str, subject: str) -> None:
    message = compose(CAMPAIGN, occasion(reason, name), "44", liaison_name="张佳",
                      to_fallback=False)  # fmt: skip
    assert message.subject == TITLE + subject


def test_the_email_addresses_the_liaison_cites_the_notice_and_is_signed_by_the_office() -> None:
    message = compose(CAMPAIGN, occasion("summary_due", "deadline-3"), "44", liaison_name="张佳",
                      to_fallback=False)  # fmt: skip
    assert message.text.startswith("张佳同志：\n\n按照《关于开展2021年全国“安全生产月”活动的通知》")
    assert "安委办〔2021〕5号" in message.text and "广东省的总结报告" in message.text
    assert message.text.endswith(
        "\n\n全国“安全生产月”活动组委会办公室\n电话：010-64463407\n电子邮箱：anquanyue@qq.com"
    )


def test_a_reminder_to_the_offices_fallback_mailbox_says_whom_it_is_for() -> None:
    message = compose(CAMPAIGN, occasion("liaison_missing", "start+3"), "M01", liaison_name=None,
                      to_fallback=True)  # fmt: skip
    assert message.text.startswith("（应急管理部尚未明确联络员，本提醒发送至组委会办公室备用邮箱")
    assert "应急管理部：" in message.text
    assert "“全国“安全生产月”活动联络员反馈表”" in message.text


def test_the_quota_reminder_names_the_month_its_last_day_and_the_quota() -> None:
    message = compose(CAMPAIGN, occasion("exposure_quota", "2021-06:+10"), "66",
                      liaison_name="李辉", to_fallback=False)  # fmt: skip
    assert "新疆生产建设兵团2021年6月在省级主流媒体曝光的典型案例" in message.text
    assert "请于6月30日前完成曝光并报送" in message.text
    assert "至少在省级主流媒体曝光1个典型案例" in message.text


@pytest.mark.parametrize("key", sorted({(o.reason, o.occasion) for o in PLANNER.occasions}))
def test_every_sms_fits_two_text_messages_and_names_the_office(key: tuple[str, str]) -> None:
    message = compose(CAMPAIGN, occasion(*key), "15", liaison_name="王某", to_fallback=False)
    assert message.sms.startswith("【安全生产月】内蒙古自治区：")
    assert message.sms.endswith("全国“安全生产月”活动组委会办公室，010-64463407")
    assert len(message.sms) <= 134  # two concatenated 70-character segments of 67 each
