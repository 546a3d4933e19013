"""CSV, one file per table: UTF-8 with a byte-order mark (so that a spreadsheet on a Chinese
Windows opens it as UTF-8), one heading row, plain digits, instants as `YYYY-MM-DD HH:MM:SS`."""

import csv
import io

from smonth_reports.tables import Cell, Column, Table


def render(table: Table) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([column.heading for column in table.columns])
    for row in table.rows:
        writer.writerow(
            [text(column, value) for column, value in zip(table.columns, row, strict=True)]
        )
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def text(column: Column, value: Cell) -> str:
    if value is None:
        return ""
    if column.kind == "instant" and isinstance(value, str):
        return value[:19].replace("T", " ")  # office time already; the offset is the campaign's
    return str(value)
