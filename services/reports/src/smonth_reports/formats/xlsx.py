"""The workbook the office circulates: the communique, then one sheet per table, with Chinese
headings, frozen headers, readable widths and thousands separators.

Written with XlsxWriter, whose formats are made once and shared by every cell that looks alike:
openpyxl hashed each cell's border, fill and font again as it was styled and written, so that
1,710 units took seconds."""

import io
import math
import re
import unicodedata
from datetime import datetime
from itertools import groupby
from typing import Any

from xlsxwriter import Workbook
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

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
TITLE = {"bold": True, "font_size": 14}
GRID = {"border": 1, "border_color": "#BFBFBF"}
HEADING = {**GRID, "bold": True, "bg_color": "#DDEBF7", "text_wrap": True, "align": "center",
           "valign": "vcenter"}  # fmt: skip
TOTAL = {"bold": True, "bg_color": "#F2F2F2"}
STATUS_FILLS = {"met": "#C6EFCE", "missed": "#FFC7CE", "unmet": "#FFEB9C"}
NUMBER_FORMATS = {"int": THOUSANDS, "instant": INSTANT}
MAX_WIDTH = 40
HEADER_WIDTH = 16  # a long heading wraps within this rather than widening its column
# XlsxWriter takes the width a spreadsheet shows, which is 5 pixels of padding (a digit is 7)
# narrower than the width the file records; these widths are the file's.
PADDING = 5 / 7
# Characters XML 1.0 cannot hold, so no worksheet can.
ILLEGAL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


class Formats:
    """Each look made once per workbook, however many cells have it."""

    def __init__(self, book: Workbook) -> None:
        self.book = book
        self._made: dict[tuple[tuple[str, Any], ...], Format] = {}

    def __call__(self, **properties: Any) -> Format:
        key = tuple(sorted(properties.items()))
        if key not in self._made:
            self._made[key] = self.book.add_format(properties)
        return self._made[key]


def render(report: Report) -> bytes:
    out = io.BytesIO()
    # Text is text: no formula made of a "=", no link made of an address, no number of digits.
    book = Workbook(out, {"in_memory": True, "strings_to_formulas": False,
                          "strings_to_urls": False, "strings_to_numbers": False})  # fmt: skip
    formats = Formats(book)
    communique_sheet(sheet(book, "情况通报"), formats, report)
    for table in report.tables:
        table_sheet(sheet(book, SHEET_NAMES[table.name]), formats, report, table)
    book.close()
    return out.getvalue()


def sheet(book: Workbook, name: str) -> Worksheet:
    """A sheet that prints with the margins the office's printouts have always had (inches)."""
    added = book.add_worksheet(name)
    added.set_margins(left=0.75, right=0.75, top=1, bottom=1)
    added.set_header(options={"margin": 0.5})
    added.set_footer(options={"margin": 0.5})
    return added


def communique_sheet(sheet: Worksheet, formats: Formats, report: Report) -> None:
    sheet.set_column(0, 0, 100 - PADDING)
    for number, paragraph in enumerate(report.summary["communique"].split("\n")):
        font = TITLE if number == 0 else {}
        lines = max(1, math.ceil(display_width(paragraph) / 98))
        sheet.set_row(number, 16 * lines)
        write(sheet, number, 0, paragraph, formats(text_wrap=True, valign="top", **font))


def header_rows(table: Table) -> int:
    return 2 if any(column.group for column in table.columns) else 1


def table_sheet(sheet: Worksheet, formats: Formats, report: Report, table: Table) -> None:
    """Row 1 the title, row 2 the date, then the heading (two rows when columns are grouped),
    then the data; the heading and the unit's name stay in view when scrolling."""
    last = len(table.columns) - 1
    as_of = cn_moment(report.as_of.astimezone(report.campaign.tz))
    sheet.merge_range(0, 0, 0, last, table.title, formats(**TITLE))
    sheet.merge_range(1, 0, 1, last, f"截至{as_of}　{report.campaign.office.name}", formats())
    first_data_row = write_heading(sheet, formats, table, top=2)
    # A cell's look: its column's number format, the status's fill, bold in a total row.
    looks: dict[tuple[str | None, str | None, bool], Format] = {}
    for offset, row in enumerate(table.rows):
        total = offset in table.total_rows
        for col, (column, value) in enumerate(zip(table.columns, row, strict=True)):
            key = (
                NUMBER_FORMATS.get(column.kind),
                STATUS_FILLS.get(status_of(column, value) or ""),
                total,
            )
            if (look := looks.get(key)) is None:
                look = looks[key] = data_format(formats, *key)
            write(sheet, first_data_row + offset, col, excel_value(column, value), look)
    keys = [column.key for column in table.columns]
    sheet.freeze_panes(first_data_row, keys.index("name") + 1 if "name" in keys else 0)
    set_widths(sheet, table)


def data_format(formats: Formats, number_format: str | None, fill: str | None, total: bool
                ) -> Format:  # fmt: skip
    """A data cell's look: gridded, with its number format, fill and the bold of a total row."""
    look: dict[str, Any] = dict(GRID)
    if number_format:
        look["num_format"] = number_format
    if fill:
        look["bg_color"] = fill
    if total:
        look.update(TOTAL)
    return formats(**look)


def write_heading(sheet: Worksheet, formats: Formats, table: Table, *, top: int) -> int:
    """The column headings from row `top` (counted from 0); a group's heading spans its columns,
    their own labels below it. Returns the first row after the heading."""
    rows, look = header_rows(table), formats(**HEADING)
    col = 0
    for group, grouped in groupby(table.columns, key=lambda column: column.group):
        members = list(grouped)
        if group:
            span(sheet, top, col, top, col + len(members) - 1, group, look)
        for n, column in enumerate(members):
            if group or rows == 1:
                write(sheet, top + 1 if group else top, col + n, column.label, look)
            else:
                span(sheet, top, col + n, top + 1, col + n, column.label, look)
        col += len(members)
    longest = max(display_width(c.label) for c in table.columns)
    sheet.set_row(top + rows - 1, 16 * min(6, math.ceil(longest / HEADER_WIDTH)))
    return top + rows


def span(sheet: Worksheet, top: int, left: int, bottom: int, right: int, text: str,
         look: Format) -> None:  # fmt: skip
    """A merged range; a single cell is merely written (a spreadsheet merges no single cell)."""
    if (top, left) == (bottom, right):
        write(sheet, top, left, text, look)
    else:
        sheet.merge_range(top, left, bottom, right, text, look)


def write(sheet: Worksheet, row: int, col: int, value: Cell | datetime, look: Format) -> None:
    if value is None or value == "":
        sheet.write_blank(row, col, None, look)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value, look)
    elif isinstance(value, int):
        sheet.write_number(row, col, value, look)
    else:
        sheet.write_string(row, col, value, look)


def excel_value(column: Column, value: Cell) -> Cell | datetime:
    if column.kind == "instant" and isinstance(value, str):
        return datetime.fromisoformat(value).replace(tzinfo=None)  # already in office time
    if isinstance(value, str):
        # A control character a unit typed is kept in its record, but a worksheet cannot hold
        # it: the cell shows the text without it.
        return ILLEGAL_CHARACTERS.sub("", value)
    return value


def set_widths(sheet: Worksheet, table: Table) -> None:
    for index, column in enumerate(table.columns):
        values = [shown(column, row[index]) for row in table.rows]
        widest = max([display_width(v) for v in values] + [0])
        label = min(display_width(column.label), HEADER_WIDTH)
        width = min(MAX_WIDTH, max(widest, label, 6) + 2)
        sheet.set_column(index, index, width - PADDING)


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
    if text.isascii():  # figures and codes, most of the cells
        return len(text)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
