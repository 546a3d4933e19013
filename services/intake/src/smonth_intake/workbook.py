"""Attachment 1 as an .xlsx workbook: the template a unit downloads (its code, the campaign's
indicators, the last snapshot pre-filled; only the cells to fill are unprotected) and the reading
of a filled one, each refusal named by its cell (`C7：…`). No I/O here."""

import io
from datetime import date, datetime
from typing import Any
from zipfile import BadZipFile

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils.exceptions import InvalidFileException
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from smonth_intake.domain import RegisteredUnit, Snapshot
from smonth_intake.models import MAX_COUNT
from smonth_shared.campaign import Campaign
from smonth_shared.problems import FieldError, Problem, invalid

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
UNIT_CELL, AS_OF_CELL = "D2", "B3"
FIRST_ROW = 7  # the first indicator; its figure is in C, its code in the hidden column F
FILL = PatternFill("solid", fgColor="FFF4CC")


def template(campaign: Campaign, unit: RegisteredUnit, last: Snapshot | None, today: date) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "进展情况统计表"
    sheet["A1"] = campaign.forms.progress
    sheet["A1"].font = Font(bold=True, size=14)
    sheet.merge_cells("A1:E1")
    sheet.append(["填报单位", unit.name, "单位代码", unit.code])
    sheet.append(["统计截止日期", today, "上次报送截至", last.as_of if last else "—"])
    sheet.append(["说明", "填写黄色单元格：活动开始以来的累计数（非负整数），不少于上次报送数。"])
    sheet.append([])
    sheet.append(["序号", "指标", "本次累计数", "计量单位", "上次报送数", "指标代码"])
    previous = last.indicators if last else {}
    for number, indicator in enumerate(campaign.indicators, start=1):
        earlier = previous.get(indicator.code)
        sheet.append([number, indicator.label, earlier, indicator.unit, earlier, indicator.code])
    _lay_out(sheet, len(campaign.indicators))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _lay_out(sheet: Worksheet, rows: int) -> None:
    last = FIRST_ROW + rows - 1
    for column, width in zip("ABCDEF", (14, 48, 14, 10, 14, 22), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.column_dimensions["F"].hidden = True
    for row in sheet.iter_rows(min_row=FIRST_ROW, max_row=last, min_col=2, max_col=2):
        row[0].alignment = Alignment(wrap_text=True, vertical="center")
    figures = DataValidation(type="whole", operator="between", formula1="0",
                             formula2=str(MAX_COUNT), allow_blank=False, showErrorMessage=True,
                             errorTitle="填写有误", error="请填写不小于 0 的整数")  # fmt: skip
    sheet.add_data_validation(figures)
    figures.add(f"C{FIRST_ROW}:C{last}")
    day = DataValidation(type="date", showErrorMessage=True, error="请填写日期，如 2021-06-20")
    sheet.add_data_validation(day)
    day.add(AS_OF_CELL)
    for ref in [AS_OF_CELL, *(f"C{r}" for r in range(FIRST_ROW, last + 1))]:
        sheet[ref].protection = Protection(locked=False)
        sheet[ref].fill = FILL
    sheet[AS_OF_CELL].number_format = "yyyy-mm-dd"
    sheet["D3"].number_format = "yyyy-mm-dd"
    sheet.protection.sheet = True  # no password: it guards against slips, not against the unit
    sheet.print_title_rows = f"{FIRST_ROW - 1}:{FIRST_ROW - 1}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr.fitToPage = True  # type: ignore[union-attr]


def read(campaign: Campaign, content: bytes) -> tuple[dict[str, Any], dict[str, str]]:
    """The workbook as a progress report's body, and each indicator's cell (by code); a cell
    that is not a figure or a date is refused here, before any rule of the campaign."""
    try:
        book = load_workbook(io.BytesIO(content), data_only=True, read_only=False)
    except (BadZipFile, InvalidFileException, KeyError, ValueError, OSError):
        raise Problem(400, "Not a workbook", "The file is not an .xlsx workbook.",
                      "文件不是 .xlsx 工作簿，请用下载的模板填写后上传。") from None  # fmt: skip
    sheet = book.worksheets[0]
    errors: list[FieldError] = []
    cells: dict[str, str] = {}
    indicators: dict[str, int] = {}
    known = set(campaign.indicator_codes)
    for row in range(FIRST_ROW, FIRST_ROW + len(campaign.indicators)):
        code = sheet[f"F{row}"].value
        if not isinstance(code, str) or code not in known:
            errors.append(_cell_error(f"F{row}", "the indicator code was changed",
                                      "指标代码被改动，请重新下载模板填写"))  # fmt: skip
            continue
        cells[code] = f"C{row}"
        figure = _figure(sheet[f"C{row}"].value)
        if figure is None:  # left empty: not reported, as an indicator left out of the JSON
            continue
        if isinstance(figure, FieldError):
            errors.append(_cell_error(f"C{row}", figure.msg, figure.msg_zh))
        else:
            indicators[code] = figure
    as_of = _day(sheet[AS_OF_CELL].value)
    if as_of is None:
        errors.append(_cell_error(AS_OF_CELL, "not a date", "应为日期，如 2021-06-20"))
    if errors:
        raise invalid(errors)
    unit = sheet[UNIT_CELL].value
    body = {"unit": str(unit or ""), "as_of": as_of, "indicators": indicators}
    return body, cells


def cell_refusal(problem: Problem, cells: dict[str, str]) -> Problem:
    """The refusal of the report read from a workbook, each field named by its cell."""
    if not problem.errors:
        return problem
    where = {"unit": UNIT_CELL, "as_of": AS_OF_CELL, "indicators": f"C{FIRST_ROW}"}
    errors = []
    for error in problem.errors:
        field = str(error.loc[1]) if error.loc[:1] == ["indicators"] and len(error.loc) > 1 else ""
        cell = cells.get(field) or where.get(str(error.loc[0]), UNIT_CELL)
        errors.append(_cell_error(cell, error.msg, error.msg_zh))
    return invalid(errors)


def _cell_error(cell: str, msg: str, msg_zh: str) -> FieldError:
    return FieldError(loc=["workbook", cell], msg=f"{cell}: {msg}", msg_zh=f"{cell}：{msg_zh}")


def _figure(value: object) -> int | FieldError | None:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().replace(",", "").isdigit():
        value = int(value.strip().replace(",", ""))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return FieldError(loc=[], msg="not a whole number", msg_zh="应为整数")
    if value < 0:
        return FieldError(loc=[], msg="negative", msg_zh="不能小于 0")
    if value > MAX_COUNT:
        return FieldError(loc=[], msg="too large", msg_zh="数值过大")
    return value


def _day(value: object) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None
