"""The tables the office circulates, as plain rows every format renders alike; no I/O here.

Cells are JSON values (text, whole numbers, ISO instants, or None for "nothing reported"), so the
JSON, the workbook, the CSV files and the HTML page show the same figures.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from smonth_reports.chinese import cn_month
from smonth_reports.domain import (
    KINDS,
    ReadModel,
    exposure_matrix,
    indicator_values,
    summary_status,
    totals_of,
    units_of,
)
from smonth_shared.campaign import Campaign

Cell = str | int | None
ColumnKind = Literal["text", "int", "instant"]
TABLE_NAMES = ("statistics", "liaisons", "summaries", "exposure", "tips", "reminders")

SUMMARY_LABELS = {"on_time": "按时报送", "late": "逾期报送", "missing": "未报送"}
MONTH_LABELS = {"met": "达标", "missed": "未达标", "unmet": "进行中", "pending": "未开始"}
STATUS_BY_LABEL = {label: status for status, label in MONTH_LABELS.items()}
REASON_LABELS = {
    "liaison_missing": "明确联络员",
    "summary_due": "报送总结报告",
    "exposure_quota": "曝光典型案例",
}
CHANNEL_LABELS = {"email": "电子邮件", "sms": "短信"}
OUTCOME_LABELS = {"sent": "已发送", "failed": "发送失败"}


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    kind: ColumnKind = "text"
    group: str | None = None  # a heading over several columns (an industry, say)

    @property
    def heading(self) -> str:
        return f"{self.group}·{self.label}" if self.group else self.label


@dataclass(frozen=True)
class Table:
    name: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Cell, ...], ...]
    total_rows: frozenset[int] = frozenset()  # subtotal and total rows, shown in bold

    def to_json(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "columns": [
                {"key": c.key, "label": c.label, "kind": c.kind, "group": c.group}
                for c in self.columns
            ],
            "rows": [list(row) for row in self.rows],
            "total_rows": sorted(self.total_rows),
        }


def tables(campaign: Campaign, model: ReadModel, now: datetime) -> list[Table]:
    return [
        statistics(campaign, model),
        liaisons(campaign, model),
        summaries(campaign, model),
        exposure(campaign, model, now),
        tips(campaign, model),
        reminders(campaign, model),
    ]


def _unit_columns() -> tuple[Column, ...]:
    return Column("unit", "单位代码"), Column("name", "单位名称"), Column("kind", "单位类别")


def statistics(campaign: Campaign, model: ReadModel) -> Table:
    """Attachment 1: one row per unit, a subtotal per kind of unit, and the national total."""
    columns = (
        *_unit_columns(),
        Column("as_of", "数据截至"),
        *(Column(i.code, f"{i.label}（{i.unit}）", "int") for i in campaign.indicators),
    )
    rows: list[tuple[Cell, ...]] = []
    total_rows: set[int] = set()
    for kind in KINDS:
        label = campaign.unit_kind_label(kind)
        for code in units_of(campaign, kind):
            snapshot = model.progress.get(code)
            as_of = snapshot["as_of"].isoformat() if snapshot else "未报送"
            values = indicator_values(campaign, snapshot).values()
            rows.append((code, campaign.unit(code).name, label, as_of, *values))
        reported = sum(code in model.progress for code in units_of(campaign, kind))
        subtotal = totals_of(campaign, model, units_of(campaign, kind))
        total_rows.add(len(rows))
        rows.append((None, f"{label}小计", label, f"已报送{reported}个", *subtotal.values()))
    total_rows.add(len(rows))
    national = totals_of(campaign, model, units_of(campaign))
    reported = sum(code in model.progress for code in units_of(campaign))
    rows.append((None, "全国合计", None, f"已报送{reported}个", *national.values()))
    return Table("statistics", campaign.forms.progress, columns, tuple(rows), frozenset(total_rows))


def liaisons(campaign: Campaign, model: ReadModel) -> Table:
    """Attachment 2: the liaison each unit named (blank where none was named yet)."""
    fields = ("name", "position", "office_phone", "mobile", "email")
    labels = ("姓名", "职务", "办公电话", "手机", "电子邮箱")
    columns = (
        *_unit_columns(),
        *(Column(key, label) for key, label in zip(fields, labels, strict=True)),
        Column("designated_at", "报送时间", "instant"),
    )
    rows = []
    for unit in campaign.units:
        liaison = model.liaisons.get(unit.code)
        details = [liaison[key] for key in fields] if liaison else [None] * len(fields)
        at = _instant(campaign, liaison["designated_at"]) if liaison else None
        rows.append((unit.code, unit.name, campaign.unit_kind_label(unit.kind), *details, at))
    return Table("liaisons", campaign.forms.liaison, columns, tuple(rows))


def summaries(campaign: Campaign, model: ReadModel) -> Table:
    """Who sent the summary report on time, late or not at all, and the materials each sent."""
    columns = (
        *_unit_columns(),
        Column("status", "总结报告"),
        Column("first_received_at", "首次报送时间", "instant"),
        Column("last_received_at", "最近报送时间", "instant"),
        Column("submissions", "报送次数", "int"),
        Column("title", "报告标题"),
        Column("practice", "典型做法（份）", "int"),
        Column("video", "视频（个）", "int"),
        Column("picture", "图片（组）", "int"),
    )
    materials = {(row["unit"], row["kind"]): row["count"] for row in model.materials}
    rows = []
    for unit in campaign.units:
        report = model.summaries.get(unit.code)
        received = (
            (_instant(campaign, report["first_received_at"]),
             _instant(campaign, report["last_received_at"]), report["submissions"],
             report["title"])
            if report else (None, None, 0, None)
        )  # fmt: skip
        rows.append((
            unit.code, unit.name, campaign.unit_kind_label(unit.kind),
            SUMMARY_LABELS[summary_status(report)], *received,
            *(materials.get((unit.code, kind), 0) for kind in ("practice", "video", "picture")),
        ))  # fmt: skip
    deadline = campaign.summary_deadline.strftime("%Y-%m-%d %H:%M")
    title = f"总结报告及资料报送情况（截止时间{deadline}）"
    return Table("summaries", title, columns, tuple(rows))


def exposure(campaign: Campaign, model: ReadModel, now: datetime) -> Table:
    """Province × month: the typical cases counted and whether the quota was met."""
    months = campaign.exposure_months
    columns = (
        Column("province", "省份代码"), Column("name", "省份"),
        *(Column(month, cn_month(month)) for month in months),
        Column("cases", "累计案例（个）", "int"), Column("months_met", "达标月数", "int"),
    )  # fmt: skip
    matrix = exposure_matrix(campaign, model, now)
    rows: list[tuple[Cell, ...]] = []
    for province in campaign.provinces:
        cells = matrix[province.code]
        rows.append((
            province.code, province.name, *(month_cell(cells[m]) for m in months),
            sum(cell["cases"] for cell in cells.values()),
            sum(cell["status"] == "met" for cell in cells.values()),
        ))  # fmt: skip
    met = [sum(matrix[p.code][m]["status"] == "met" for p in campaign.provinces) for m in months]
    total_cases = sum(int(row[-2] or 0) for row in rows)
    rows.append((None, "达标省份数", *met, total_cases, None))
    title = f"“安全生产万里行”典型案例曝光情况（每省每月至少{campaign.exposure.min_cases_per_province_per_month}个）"
    return Table("exposure", title, columns, tuple(rows), frozenset({len(rows) - 1}))


def month_cell(cell: dict[str, Any]) -> str:
    """达标 2, 未达标 0, 进行中 1, or 未开始: the status first, so a reader (and a renderer) can
    tell them apart at a glance."""
    label = MONTH_LABELS[cell["status"]]
    return label if cell["status"] == "pending" else f"{label} {cell['cases']}"


def status_of(column: Column, value: Cell) -> str | None:
    """The status (met, missed, unmet, pending) of an exposure cell; None for any other cell."""
    if not (isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}", column.key)):
        return None
    return STATUS_BY_LABEL.get(value.split(" ")[0])


def tips(campaign: Campaign, model: ReadModel) -> Table:
    """Province × industry: tips received, verified, unfounded; then the province's totals."""
    statuses = (("received", "受理"), ("verified", "属实"), ("unfounded", "不属实"))
    columns = [Column("province", "省份代码"), Column("name", "省份")]
    for industry in campaign.industries:
        columns += [
            Column(f"{industry.code}.{key}", label, "int", industry.label)
            for key, label in statuses
        ]
    columns += [Column(f"total.{key}", label, "int", "合计") for key, label in statuses]
    columns.append(Column("total.pending", "待核查", "int", "合计"))
    counts: dict[tuple[str, str, str], int] = {}
    for row in model.tips:  # a resolved tip was received too
        for key in {"received", row["status"]}:
            where = (row["province"], row["industry"], key)
            counts[where] = counts.get(where, 0) + row["count"]
    keys = [key for key, _ in statuses]

    def line(provinces: list[str]) -> list[int]:
        def n(industry: str, key: str) -> int:
            return sum(counts.get((p, industry, key), 0) for p in provinces)

        cells = [n(i.code, key) for i in campaign.industries for key in keys]
        totals = [sum(n(i.code, key) for i in campaign.industries) for key in keys]
        return [*cells, *totals, totals[0] - totals[1] - totals[2]]

    rows: list[tuple[Cell, ...]] = [(p.code, p.name, *line([p.code])) for p in campaign.provinces]
    rows.append((None, "全国合计", *line([p.code for p in campaign.provinces])))
    title = "重大隐患和违法违规行为举报受理情况（省份×行业）"
    return Table("tips", title, tuple(columns), tuple(rows), frozenset({len(rows) - 1}))


def reminders(campaign: Campaign, model: ReadModel) -> Table:
    columns = (
        Column("at", "时间", "instant"), *_unit_columns(), Column("reason", "提醒事项"),
        Column("occasion", "批次"), Column("channel", "渠道"), Column("recipient", "接收方"),
        Column("outcome", "结果"), Column("attempts", "尝试次数", "int"),
        Column("error", "失败原因"),
    )  # fmt: skip
    registered = {u.code for u in campaign.units}
    rows = []
    for row in model.reminders:
        unit = campaign.unit(row["unit"]) if row["unit"] in registered else None
        rows.append((
            _instant(campaign, row["at"]), row["unit"], unit.name if unit else None,
            campaign.unit_kind_label(unit.kind) if unit else None,
            REASON_LABELS.get(row["reason"], row["reason"]), row["occasion"],
            CHANNEL_LABELS.get(row["channel"], row["channel"]), row["recipient"],
            OUTCOME_LABELS[row["outcome"]], row["attempts"], row["error"],
        ))  # fmt: skip
    return Table("reminders", "提醒发送情况（已发送与发送失败）", columns, tuple(rows))


def _instant(campaign: Campaign, moment: datetime) -> str:
    """ISO 8601 in office time, to the second."""
    return moment.astimezone(campaign.tz).replace(microsecond=0).isoformat()
