"""The workbook the office circulates: the communique, then one sheet per table, with Chinese
headings, frozen headers, readable widths and thousands separators."""

import io
import math
import unicodedata
from datetime import datetime
from itertools import groupby

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from smonth_reports.chinese import cn_moment
from smonth_reports.report import Report
from smonth_reports.tables import Cell, Column, Table, status_of

SHEET_NAMES = {
    "statistics": "进展统计表",
    "liaisons": "联络员反馈表",
    "summaries": "总结报告报送",
    "exposure": "典型案例曝光",
    "tips": "举报受理",
    "reminders": "提醒发送",
}
THOUSANDS = "#,##0"
INSTANT = "yyyy-mm-dd hh:mm:ss"
BOLD = Font(bold=True)
TITLE = Font(bold=True, size=14)
HEADER_FILL = PatternFill("solid", fgColor="DDEBF7")
TOTAL_FILL = PatternFill("solid", fgColor="F2F2F2")
THIN = Side(style="thin", color="BFBFBF")
GRID = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
STATUS_FILLS = {
    "met": PatternFill("solid", fgColor="C6EFCE"),
    "missed": PatternFill("solid", fgColor="FFC7CE"),
    "unmet": PatternFill("solid", fgColor="FFEB9C"),
}
WRAP_CENTER = Alignment(wrap_text=True, horizontal="center", vertical="center")
MAX_WIDTH = 40
HEADER_WIDTH = 16  # a long heading wraps within this rather than widening its column


def render(report: Report) -> bytes:
    book = Workbook()
    communique_sheet(book.active, report)  # type: ignore[arg-type]
    for table in report.tables:
        table_sheet(book.create_sheet(SHEET_NAMES[table.name]), report, table)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def communique_sheet(sheet: Worksheet, report: Report) -> None:
    sheet.title = "情况通报"
    sheet.column_dimensions["A"].width = 100
    for number, paragraph in enumerate(report.summary["communique"].split("\n"), start=1):
        cell = sheet.cell(row=number, column=1, value=paragraph)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        if number == 1:
            cell.font = TITLE
        lines = max(1, math.ceil(display_width(paragraph) / 98))
        sheet.row_dimensions[number].height = 16 * lines


def header_rows(table: Table) -> int:
    return 2 if any(column.group for column in table.columns) else 1


def table_sheet(sheet: Worksheet, report: Report, table: Table) -> None:
    """Row 1 the title, row 2 the date, then the heading (two rows when columns are grouped),
    then the data; the heading and the unit's name stay in view when scrolling."""
    width = len(table.columns)
    sheet.cell(row=1, column=1, value=table.title).font = TITLE
    sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=width)
    as_of = cn_moment(report.as_of.astimezone(report.campaign.tz))
    sheet.cell(row=2, column=1, value=f"截至{as_of}　{report.campaign.office.name}")
    sheet.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    first_data_row = write_heading(sheet, table, top=3)
    for offset, row in enumerate(table.rows):
        number = first_data_row + offset
        for col, (column, value) in enumerate(zip(table.columns, row, strict=True), start=1):
            cell = sheet.cell(row=number, column=col, value=excel_value(column, value))
            cell.border = GRID
            if column.kind == "int":
                cell.number_format = THOUSANDS
            elif column.kind == "instant":
                cell.number_format = INSTANT
            if fill := STATUS_FILLS.get(status_of(column, value) or ""):
                cell.fill = fill
            if offset in table.total_rows:
                cell.font, cell.fill = BOLD, TOTAL_FILL
    keys = [column.key for column in table.columns]
    frozen_columns = keys.index("name") + 1 if "name" in keys else 0
    sheet.freeze_panes = f"{get_column_letter(frozen_columns + 1)}{first_data_row}"
    set_widths(sheet, table)


def write_heading(sheet: Worksheet, table: Table, *, top: int) -> int:
    """The column headings from row `top`; a group's heading spans its columns, their own labels
    below it. Returns the first row after the heading."""
    rows = header_rows(table)
    col = 1
    for group, grouped in groupby(table.columns, key=lambda column: column.group):
        members = list(grouped)
        if group:
            heading(sheet, top, col, group)
            last = col + len(members) - 1
            sheet.merge_cells(start_row=top, start_column=col, end_row=top, end_column=last)
        for n, column in enumerate(members):
            heading(sheet, top + 1 if group else top, col + n, column.label)
            if not group and rows == 2:
                sheet.merge_cells(
                    start_row=top, start_column=col + n, end_row=top + 1, end_column=col + n
                )
        col += len(members)
    longest = max(display_width(c.label) for c in table.columns)
    sheet.row_dimensions[top + rows - 1].height = 16 * min(6, math.ceil(longest / HEADER_WIDTH))
    return top + rows


def heading(sheet: Worksheet, row: int, col: int, text: str) -> None:
    cell = sheet.cell(row=row, column=col, value=text)
    cell.font, cell.fill, cell.alignment, cell.border = BOLD, HEADER_FILL, WRAP_CENTER, GRID


def excel_value(column: Column, value: Cell) -> Cell | datetime:
    if column.kind == "instant" and isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=None)  # already in office time
    if isinstance(value, str):
        # A control character a unit typed is kept in its record, but a worksheet cannot hold
        # it (openpyxl refuses the whole workbook): the cell shows the text without it.
        return ILLEGAL_CHARACTERS_RE.sub("", value)
    return value


def set_widths(sheet: Worksheet, table: Table) -> None:
    for index, column in enumerate(table.columns):
        values = [shown(column, row[index]) for row in table.rows]
        widest = max([display_width(v) for v in values] + [0])
        label = min(display_width(column.label), HEADER_WIDTH)
        letter = get_column_letter(index + 1)
        sheet.column_dimensions[letter].width = min(MAX_WIDTH, max(widest, label, 6) + 2)


def shown(column: Column, value: Cell) -> str:
    if value is None:
        return ""
    if column.kind == "int" and isinstance(value, int):
        return f"{value:,}"
    if column.kind == "instant":
        return INSTANT  # as wide as what it shows
    return str(value)


def display_width(text: str) -> int:
    """Columns a text takes: a Chinese character is as wide as two Latin ones."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
