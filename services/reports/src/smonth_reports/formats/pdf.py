"""The communique as a printable PDF: the text, three charts and the national figures, with the
Chinese typeface embedded (a subset), so it prints the same anywhere."""

import io
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.graphics.charts.barcharts import HorizontalBarChart, VerticalBarChart
from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.shapes import Drawing, String
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)
from reportlab.platypus.flowables import Flowable

from smonth_reports.chinese import cn_amount, cn_month
from smonth_reports.communique import Role
from smonth_reports.domain import KINDS
from smonth_reports.fonts import BOLD, REGULAR, pdf_font
from smonth_reports.report import Report

WIDTH = A4[0] - 40 * mm
HEADINGS = ("附：图表与主要数据", "全国主要指标", "各类单位报送情况")
PALETTE = [colors.HexColor(c) for c in ("#1f77b4", "#2ca02c", "#ff7f0e", "#d62728")]
GRID = colors.HexColor("#BFBFBF")


@dataclass(frozen=True)
class Chart:
    title: str
    categories: list[str]
    series: list[tuple[str, list[int]]]  # (legend, one value per category)
    horizontal: bool = False


def render(report: Report) -> bytes:
    charts = _charts(report)
    figures, units = _figure_rows(report), _unit_rows(report)
    text = "".join(
        [t for _, t in report.communique] + list(HEADINGS) + _chart_texts(charts)
        + [cell for row in figures + units for cell in row] + [_footer(report, 0)]
    )  # fmt: skip
    regular, bold = pdf_font(text, REGULAR), pdf_font(text, BOLD)
    styles = _styles(regular, bold)
    # A paragraph never breaks across pages (nor does the signature): each reads whole.
    story: list[Flowable] = [
        KeepTogether([Paragraph(escape(text), styles[role]) for role, text in group])
        for group in _groups(report.communique)
    ]
    story.append(Paragraph(HEADINGS[0], styles["heading"]))
    story += [_drawing(chart, regular) for chart in charts]
    story += [
        Paragraph(HEADINGS[1], styles["heading"]),
        _table(figures, regular, bold, widths=[0.52, 0.1, 0.2, 0.18]),
        Spacer(1, 6 * mm),
        Paragraph(HEADINGS[2], styles["heading"]),
        _table(units, regular, bold, widths=[0.22, 0.13, 0.13, 0.13, 0.13, 0.13, 0.13]),
    ]
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm, topMargin=18 * mm,
        bottomMargin=18 * mm, title=report.communique[0][1], author=report.campaign.office.name,
        subject=report.campaign.theme, creator="safety-month reports",
    )  # fmt: skip

    def footer(canvas: Canvas, doc: SimpleDocTemplate) -> None:
        canvas.setFont(regular, 9)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, _footer(report, doc.page))

    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def _groups(parts: tuple[tuple[Role, str], ...]) -> list[list[tuple[Role, str]]]:
    groups: list[list[tuple[Role, str]]] = []
    for role, text in parts:
        if groups and role == "signature" and groups[-1][0][0] == "signature":
            groups[-1].append((role, text))
        else:
            groups.append([(role, text)])
    return groups


def _footer(report: Report, page: int) -> str:
    return f"{report.campaign.office.name}　第{page}页"


def _styles(regular: str, bold: str) -> dict[str, ParagraphStyle]:
    body = ParagraphStyle(
        "body", fontName=regular, fontSize=11, leading=19, firstLineIndent=22, wordWrap="CJK",
        spaceAfter=4,
    )  # fmt: skip
    return {
        "title": ParagraphStyle("title", parent=body, fontName=bold, fontSize=18, leading=26,
                                alignment=TA_CENTER, firstLineIndent=0, spaceAfter=6),
        "subtitle": ParagraphStyle("subtitle", parent=body, alignment=TA_CENTER,
                                   firstLineIndent=0, spaceAfter=12),
        "lead": body,
        "heading": ParagraphStyle("heading", parent=body, fontName=bold, spaceBefore=8,
                                  firstLineIndent=0),
        "body": body,
        "signature": ParagraphStyle("signature", parent=body, alignment=TA_RIGHT,
                                    firstLineIndent=0),
    }  # fmt: skip


def _charts(report: Report) -> list[Chart]:
    summary, campaign = report.summary, report.campaign
    by_kind = summary["units"]["by_kind"]
    measures = [("应报送", "expected"), ("已报送统计", "reported"), ("明确联络员", "liaisons"),
                ("按时报送总结", "summary_on_time")]  # fmt: skip
    tips = summary["tips"]["by_industry"]
    return [
        Chart(
            "报送完成情况（个）",
            [campaign.unit_kind_label(kind) for kind in KINDS],
            [(label, [by_kind[kind][key] for kind in KINDS]) for label, key in measures],
        ),
        Chart(
            f"各月达标省份数（共{summary['exposure']['provinces']}个）",
            [cn_month(month)[5:] for month in summary["exposure"]["provinces_met"]],
            [("达标省份", list(summary["exposure"]["provinces_met"].values()))],
        ),
        Chart(
            "举报受理（按行业，条次）",
            [campaign.industry_label(code) for code in tips],
            [("受理", list(tips.values()))],
            horizontal=True,
        ),
    ]


def _chart_texts(charts: list[Chart]) -> list[str]:
    return [text for c in charts for text in [c.title, *c.categories, *(s[0] for s in c.series)]]


def _drawing(chart: Chart, font: str) -> Drawing:
    height = 200 if not chart.horizontal else 40 + 22 * len(chart.categories)
    drawing = Drawing(WIDTH, height + 30)
    drawing.add(String(WIDTH / 2, height + 12, chart.title, fontName=font, fontSize=11,
                       textAnchor="middle"))  # fmt: skip
    plot = HorizontalBarChart() if chart.horizontal else VerticalBarChart()
    plot.x, plot.y = (70, 20) if chart.horizontal else (40, 40)
    plot.width = int(WIDTH - plot.x - (130 if len(chart.series) > 1 else 30))
    plot.height = height - plot.y - 10
    plot.data = [values for _, values in chart.series]
    plot.categoryAxis.categoryNames = chart.categories
    plot.categoryAxis.labels.fontName = font
    plot.categoryAxis.labels.fontSize = 9
    plot.valueAxis.labels.fontName = font
    plot.valueAxis.valueMin = 0
    plot.valueAxis.forceZero = True
    plot.barLabels.fontName = font
    plot.barLabels.fontSize = 8
    plot.barLabelFormat = "%d"
    plot.barLabels.boxAnchor = "w" if chart.horizontal else "s"
    plot.barLabels.nudge = 3
    plot.categoryAxis.reverseDirection = chart.horizontal  # the first category on top
    for n in range(len(chart.series)):
        plot.bars[n].fillColor = PALETTE[n % len(PALETTE)]
    drawing.add(plot)
    if len(chart.series) > 1:
        legend = Legend()
        legend.x, legend.y = int(WIDTH - 110), height - 20
        legend.fontName, legend.fontSize = font, 9
        legend.alignment, legend.columnMaximum = "right", len(chart.series)
        legend.colorNamePairs = [(PALETTE[n], s[0]) for n, s in enumerate(chart.series)]
        drawing.add(legend)
    return drawing


def _figure_rows(report: Report) -> list[list[str]]:
    totals = report.summary["totals"]
    rows = [["指标", "单位", "数量", "中文写法"]]
    for indicator in report.campaign.indicators:
        value = totals[indicator.code]
        rows.append(
            [indicator.label, indicator.unit, f"{value:,}", cn_amount(value, indicator.unit)]
        )
    return rows


def _unit_rows(report: Report) -> list[list[str]]:
    rows = [["单位类别", "应报送", "已报送统计", "联络员", "按时报送总结", "逾期", "未报送"]]
    keys = ("expected", "reported", "liaisons", "summary_on_time", "summary_late",
            "summary_missing")  # fmt: skip
    by_kind = report.summary["units"]["by_kind"]
    for kind in KINDS:
        rows.append([report.campaign.unit_kind_label(kind), *(str(by_kind[kind][k]) for k in keys)])
    rows.append(["合计", *(str(report.summary["units"][k]) for k in keys)])
    return rows


def _table(rows: list[list[str]], regular: str, bold: str, *, widths: list[float]) -> Table:
    cell = ParagraphStyle("cell", fontName=regular, fontSize=9, leading=12, wordWrap="CJK")
    head = ParagraphStyle("head", parent=cell, fontName=bold)
    data = [[Paragraph(escape(text), head if n == 0 else cell) for text in row]
            for n, row in enumerate(rows)]  # fmt: skip
    table = Table(data, colWidths=[WIDTH * w for w in widths], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, GRID),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#DDEBF7")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]))  # fmt: skip
    return table
