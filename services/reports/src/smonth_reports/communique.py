"""The communique: the national summary as the office would publish it, in Chinese; no I/O here.

Every figure is written the press way (cn_number); the text is built from the campaign file and
the summary only, so the 2022 campaign needs no change here.
"""

from datetime import datetime
from typing import Any, Literal

from smonth_reports.chinese import cn_amount, cn_date, cn_moment, cn_month, cn_number
from smonth_shared.campaign import Campaign

NUMERALS = "一二三四五六七八九十"
MATERIAL_WORDS = {
    "practice": ("典型做法", "份"),
    "video": ("视频", "个"),
    "picture": ("图片", "组"),
}


Role = Literal["title", "subtitle", "lead", "heading", "body", "signature"]


def paragraphs(campaign: Campaign, summary: dict[str, Any]) -> list[tuple[Role, str]]:
    """The communique paragraph by paragraph, each with its role (the PDF and HTML style them)."""
    as_of = datetime.fromisoformat(summary["as_of"]).astimezone(campaign.tz)
    month = campaign.month.start
    sections = [
        ("各项活动开展情况", _activities(campaign, summary)),
        ("报送情况", _reporting(campaign, summary)),
        ("“安全生产万里行”典型案例曝光情况", _exposure(summary)),
        ("举报受理情况", _tips(campaign, summary)),
    ]
    parts: list[tuple[Role, str]] = [
        ("title", f"{campaign.title}活动情况通报"),
        ("subtitle", f"（截至{cn_moment(as_of)}）"),
        ("lead", f"{month.year}年{month.month}月是第{campaign.edition}个全国“安全生产月”，主题是"
         f"“{campaign.theme}”。根据各地区、各有关部门和单位报送的情况，现将活动开展情况通报如下。"),
    ]  # fmt: skip
    for number, (heading, body) in enumerate(sections):
        parts.append(("heading", f"{NUMERALS[number]}、{heading}"))
        parts.extend(("body", text) for text in body)
    parts.extend((("signature", campaign.office.name), ("signature", cn_date(as_of.date()))))
    return parts


def _activities(campaign: Campaign, summary: dict[str, Any]) -> list[str]:
    totals = summary["totals"]
    paragraphs = []
    for number, line in enumerate(sorted(campaign.activity_lines, key=lambda a: a.number)):
        figures = [
            f"{i.label}{cn_amount(totals[i.code], i.unit)}"
            for i in campaign.indicators
            if i.line == line.number
        ]
        if figures:
            paragraphs.append(f"（{NUMERALS[number]}）{line.title}。{'，'.join(figures)}。")
    return paragraphs


def _reporting(campaign: Campaign, summary: dict[str, Any]) -> list[str]:
    units, by_kind = summary["units"], summary["units"]["by_kind"]
    kinds = "、".join(
        f"{campaign.unit_kind_label(kind)}{counts['expected']}个"
        for kind, counts in by_kind.items()
    )
    per_kind = "；".join(
        f"{campaign.unit_kind_label(kind)}已报送统计{c['reported']}个、明确联络员{c['liaisons']}个、"
        f"按时报送总结报告{c['summary_on_time']}个"
        for kind, c in by_kind.items()
    )
    materials = summary["materials"]["by_kind"]
    sent = "、".join(
        f"{word}{cn_number(materials[kind])}{unit}" for kind, (word, unit) in MATERIAL_WORDS.items()
    )
    return [
        f"应报送单位{units['expected']}个（{kinds}），已报送活动进展统计{units['reported']}个，"
        f"已明确联络员{units['liaisons']}个。总结报告按时报送{units['summary_on_time']}个、"
        f"逾期报送{units['summary_late']}个、尚未报送{units['summary_missing']}个。其中，{per_kind}。",
        f"各单位报送{sent}。",
    ]


def _exposure(summary: dict[str, Any]) -> list[str]:
    exposure = summary["exposure"]
    started = [
        month
        for month in exposure["provinces_met"]
        if any(cells[month]["status"] != "pending" for cells in exposure["matrix"].values())
    ]
    text = (
        f"各省（自治区、直辖市）及新疆生产建设兵团在省级主流媒体累计曝光典型案例"
        f"{cn_number(exposure['cases_total'])}个。"
    )
    if started:
        met = "、".join(
            f"{cn_month(month)}{exposure['provinces_met'][month]}个" for month in started
        )
        text += (
            f"达到每月至少曝光{exposure['quota']}个典型案例要求的省份（共{exposure['provinces']}个）："
            f"{met}。"
        )
    return [text]


def _tips(campaign: Campaign, summary: dict[str, Any]) -> list[str]:
    tips = summary["tips"]
    if not tips["received"]:
        return [f"“{campaign.tip_line}”举报电话等渠道尚未受理举报。"]
    text = (
        f"通过“{campaign.tip_line}”举报电话等渠道受理重大隐患和违法违规行为举报"
        f"{cn_amount(tips['received'], '条次')}，其中经核查属实{cn_amount(tips['verified'], '条次')}、"
        f"不属实{cn_amount(tips['unfounded'], '条次')}、正在核查{cn_amount(tips['pending'], '条次')}；"
        f"已整改{cn_amount(tips['rectified'], '条次')}，"
        f"兑现举报奖励{cn_amount(tips['reward_paid'], '条次')}。"
    )
    ranked = sorted(
        ((count, code) for code, count in tips["by_industry"].items() if count), reverse=True
    )[:3]
    top = "、".join(
        f"{campaign.industry_label(code)}（{cn_amount(count, '条次')}）" for count, code in ranked
    )
    return [text + f"举报较多的行业为{top}。"]
