"""Every format of the national summary, rendered from one `Report`."""

from dataclasses import dataclass
from typing import Literal

import orjson

from smonth_reports.formats import delimited, page, pdf, xlsx
from smonth_reports.report import Report

Format = Literal["json", "xlsx", "csv", "html", "pdf"]
MEDIA_TYPES: dict[Format, str] = {
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv; charset=utf-8",
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
}


@dataclass(frozen=True)
class Rendered:
    content: bytes
    media_type: str
    filename: str


def render(
    report: Report, format: Format, *, table: str = "statistics", detail: bool = False
) -> Rendered:
    """`table` picks the CSV's table; `detail` adds every table to the JSON."""
    stem = f"national-summary-{report.campaign.id}"
    match format:
        case "json":
            body = report.to_json(detail=detail)
            content = orjson.dumps(body, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS)
        case "xlsx":
            content = xlsx.render(report)
        case "csv":
            content, stem = delimited.render(report.table(table)), f"{stem}-{table}"
        case "html":
            content = page.render(report)
        case "pdf":
            content = pdf.render(report)
    return Rendered(content, MEDIA_TYPES[format], f"{stem}.{format}")
