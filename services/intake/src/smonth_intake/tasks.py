"""What a unit still owes and by when, from the campaign file and intake's records: pure rules,
no I/O. Each task has a status a page can show (`status_zh`) and a program can test (`status`)."""

import calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from smonth_intake.domain import Snapshot, SummaryReceipt
from smonth_shared.campaign import Campaign
from smonth_shared.wording import chinese_day

Status = Literal["done", "done_late", "owed", "overdue"]
STATUS_ZH: dict[Status, str] = {
    "done": "已完成", "done_late": "已报送（逾期）", "owed": "待报送", "overdue": "已逾期",
}  # fmt: skip


@dataclass(frozen=True)
class UnitRecords:
    kind: str
    snapshot: Snapshot | None
    liaison: str | None  # the current liaison's name
    summary: SummaryReceipt | None
    materials: int
    cases_this_month: int


def month_of(day: date) -> tuple[date, date]:
    return day.replace(day=1), day.replace(day=calendar.monthrange(day.year, day.month)[1])


def unit_tasks(campaign: Campaign, records: UnitRecords, now: datetime) -> list[dict[str, Any]]:
    today = now.astimezone(campaign.tz).date()
    deadline = campaign.summary_deadline.astimezone(campaign.tz)
    tasks = [
        _progress(campaign, records.snapshot, today),
        _task("liaison", campaign.forms.liaison, None, "done" if records.liaison else "owed",
              f"联络员：{records.liaison}" if records.liaison else "尚未报送联络员信息"),
        _summary(records.summary, deadline, now),
        _task("materials", "典型做法、视频和图片等材料", None,
              "done" if records.materials else "owed",
              f"已报送 {records.materials} 份" if records.materials else "尚未报送材料"),
    ]  # fmt: skip
    if records.kind == "province" and campaign.is_in_exposure_window(today):
        quota, first_last = campaign.exposure.min_cases_per_province_per_month, month_of(today)
        count = records.cases_this_month
        tasks.append(_task(
            "cases", f"{today.month}月曝光典型案例（每月不少于 {quota} 个）", first_last[1],
            "done" if count >= quota else "owed", f"本月已报送 {count} 个",
        ))  # fmt: skip
    return tasks


def _progress(campaign: Campaign, snapshot: Snapshot | None, today: date) -> dict[str, Any]:
    due = campaign.progress.latest_as_of
    if snapshot is not None:
        return _task("progress", campaign.forms.progress, due, "done",
                     f"已报送截至{chinese_day(snapshot.as_of)}的累计数，可随时更新")  # fmt: skip
    status: Status = "overdue" if today > due else "owed"
    return _task("progress", campaign.forms.progress, due, status, "尚未报送统计数")


def _summary(receipt: SummaryReceipt | None, deadline: datetime, now: datetime) -> dict[str, Any]:
    title = "活动总结报告"
    if receipt is None:
        status: Status = "overdue" if now > deadline else "owed"
        return _task("summary", title, deadline.date(), status,
                     f"须于{chinese_day(deadline.date())} {deadline:%H:%M}前报送")  # fmt: skip
    if receipt.on_time:
        return _task("summary", title, deadline.date(), "done", "已按时报送")
    return _task("summary", title, deadline.date(), "done_late", "报送时已超过截止时间")


def _task(
    task: str, title_zh: str, due: date | None, status: Status, detail_zh: str
) -> dict[str, Any]:
    return {"task": task, "title_zh": title_zh, "due": due and due.isoformat(), "status": status,
            "status_zh": STATUS_ZH[status], "detail_zh": detail_zh}  # fmt: skip
