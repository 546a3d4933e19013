"""Every format shows the same figures as the JSON: the workbook cell by cell, the CSV files row by
row, the PDF's extracted text paragraph by paragraph."""

import csv
import io
import re
from datetime import datetime
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.worksheet.worksheet import Worksheet
from pypdf import PdfReader

from smonth_reports.formats import render
from smonth_reports.formats.xlsx import SHEET_NAMES, excel_value
from smonth_reports.report import Report
from smonth_reports.tables import TABLE_NAMES, Column


@pytest.fixture(scope="module")
def detail(report: Report) -> dict[str, Any]:
    return report.to_json(detail=True)


@pytest.fixture(scope="module")
def workbook(report: Report) -> Any:
    return load_workbook(io.BytesIO(render(report, "xlsx").content))


def data_rows(sheet: Worksheet, table: dict[str, Any]) -> tuple[int, list[list[Any]]]:
    """The first data row's number and the data rows, found under the heading row."""
    labels = [column["label"] for column in table["columns"]]
    for number in range(1, 8):
        row = [sheet.cell(row=number, column=n + 1).value for n in range(len(labels))]
        if row[-1] == labels[-1] and (row[0] == labels[0] or row[0] is None):
            first = number + 1
            rows = sheet.iter_rows(min_row=first, max_row=first + len(table["rows"]) - 1,
                                   max_col=len(labels), values_only=True)  # fmt: skip
            return first, [list(r) for r in rows]
    raise AssertionError(f"no heading row in {sheet.title}")


def expected_cell(column: dict[str, Any], value: Any) -> Any:
    if column["kind"] == "instant" and value is not None:
        return datetime.fromisoformat(value).replace(tzinfo=None)
    return value


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_each_sheet_of_the_workbook_holds_its_table_cell_by_cell(
    workbook: Any, detail: dict[str, Any], name: str
) -> None:
    table = detail["tables"][name]
    sheet = workbook[SHEET_NAMES[name]]
    assert sheet["A1"].value == table["title"]
    first, rows = data_rows(sheet, table)
    assert len(rows) == len(table["rows"])
    for got, want in zip(rows, table["rows"], strict=True):
        assert got == [expected_cell(c, v) for c, v in zip(table["columns"], want, strict=True)]
    assert sheet.freeze_panes is not None and sheet.freeze_panes.endswith(str(first))
    assert sheet.max_row == first + len(rows) - 1  # nothing below the table


def test_the_statistics_sheet_ends_with_the_kinds_and_the_national_total_of_the_json(
    workbook: Any, detail: dict[str, Any]
) -> None:
    table = detail["tables"]["statistics"]
    sheet = workbook[SHEET_NAMES["statistics"]]
    first, rows = data_rows(sheet, table)
    codes = [column["key"] for column in table["columns"]][4:]
    by_name = {row[1]: row for row in rows}
    assert by_name["全国合计"][4:] == [detail["totals"][code] for code in codes]
    for kind, label in detail["labels"]["kinds"].items():
        assert by_name[f"{label}小计"][4:] == [detail["totals_by_kind"][kind][c] for c in codes]
    national = sheet.cell(row=first + len(rows) - 1, column=5)
    assert national.number_format == "#,##0" and national.font.bold
    assert sheet.freeze_panes == f"C{first}"  # the code and the name stay in view
    assert all(sheet.column_dimensions[letter].width >= 8 for letter in "ABCDE")


def test_the_exposure_sheet_marks_met_and_missed_months(workbook: Any) -> None:
    sheet = workbook[SHEET_NAMES["exposure"]]
    fills = {}
    for row in sheet.iter_rows(min_row=4):
        for cell in row:
            if isinstance(cell.value, str) and cell.value.split(" ")[0] in ("达标", "未达标"):
                # ARGB; a spreadsheet paints a solid fill whatever its alpha byte says
                fills[cell.value.split(" ")[0]] = cell.fill.fgColor.rgb[2:]
    assert fills == {"达标": "C6EFCE", "未达标": "FFC7CE"}


def test_the_workbook_opens_with_the_communique(workbook: Any, detail: dict[str, Any]) -> None:
    sheet = workbook.worksheets[0]
    paragraphs = [row[0] for row in sheet.iter_rows(values_only=True)]
    assert paragraphs == detail["communique"].split("\n")


@pytest.mark.parametrize("name", TABLE_NAMES)
def test_each_table_has_a_csv_file_with_the_same_rows(
    report: Report, detail: dict[str, Any], name: str
) -> None:
    content = render(report, "csv", table=name).content
    assert content.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
    table = detail["tables"][name]
    headings = [
        f"{c['group']}·{c['label']}" if c["group"] else c["label"] for c in table["columns"]
    ]
    assert rows[0] == headings
    assert len(rows) == len(table["rows"]) + 1
    for got, want in zip(rows[1:], table["rows"], strict=True):
        shown = ["" if v is None else str(v)[:19].replace("T", " ") if c["kind"] == "instant"
                 else str(v) for c, v in zip(table["columns"], want, strict=True)]  # fmt: skip
        assert got == shown


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_pdf_reads_as_the_communique_with_the_national_figures(
    report: Report, detail: dict[str, Any]
) -> None:
    reader = PdfReader(io.BytesIO(render(report, "pdf").content))
    text = squeeze("".join(page.extract_text() for page in reader.pages))
    for paragraph in detail["communique"].split("\n"):
        assert squeeze(paragraph) in text
    for indicator in detail["indicators"]:
        assert f"{detail['totals'][indicator['code']]:,}" in text
        assert detail["totals_text"][indicator["code"]] in text


def test_the_pdf_embeds_its_chinese_typeface(report: Report) -> None:
    reader = PdfReader(io.BytesIO(render(report, "pdf").content))
    embedded = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():  # type: ignore[union-attr]
            font = font.get_object()
            descriptor = font.get("/FontDescriptor")
            if descriptor is not None and "/FontFile2" in descriptor.get_object():
                embedded.add(str(font["/BaseFont"]).split("+")[-1])
    assert embedded == {"NotoSansSC-Regular", "NotoSansSC-Bold"}


def test_the_html_page_holds_the_communique_and_every_table(report: Report) -> None:
    page = render(report, "html").content.decode()
    assert "<script" not in page and "http" not in page.split("<body>")[1]
    for name in TABLE_NAMES:
        assert f'data-table="{name}"' in page
    assert report.communique[0][1] in page


def test_a_control_character_a_unit_typed_is_left_out_of_its_cell_not_the_workbook() -> None:
    assert excel_value(Column("title", "标题"), "总结\x1b报告\x07") == "总结报告"
    assert excel_value(Column("title", "标题"), "第一行\n第二行") == "第一行\n第二行"
