"""The summary as one self-contained HTML document (format=html): the communique and every
table, styled inline, with nothing fetched from anywhere, so it can be saved, mailed and printed.
The live page with charts is /dashboard."""

from html import escape

from smonth_reports.report import Report
from smonth_reports.tables import Cell, Column, Table, status_of

STYLE = """
body{font-family:"Microsoft YaHei","PingFang SC","Noto Sans CJK SC","Noto Sans SC",sans-serif;
 margin:2em auto;max-width:1200px;color:#222;line-height:1.7}
h1{text-align:center;font-size:1.6em;margin-bottom:0}
.subtitle{text-align:center;margin-top:.2em}
p.body,p.lead{text-indent:2em} p.signature{text-align:right;margin:0}
h2{font-size:1.1em;margin:1.2em 0 .3em}
.scroll{overflow-x:auto} table{border-collapse:collapse;font-size:13px;margin-bottom:1.5em}
th,td{border:1px solid #bfbfbf;padding:2px 6px;white-space:nowrap}
th{background:#ddebf7} td.int{text-align:right;font-variant-numeric:tabular-nums}
tr.total td{font-weight:bold;background:#f2f2f2}
td.met{background:#c6efce} td.missed{background:#ffc7ce} td.unmet{background:#ffeb9c}
td.pending{color:#888}
@media print{.scroll{overflow:visible} table{font-size:9px}}
"""


def render(report: Report) -> bytes:
    parts = [
        "<!doctype html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(report.communique[0][1])}</title><style>{STYLE}</style></head><body>",
    ]
    for role, text in report.communique:
        tag = {"title": "h1", "heading": "h2"}.get(role, "p")
        parts.append(f'<{tag} class="{role}">{escape(text)}</{tag}>')
    for table in report.tables:
        parts += [f'<h2 id="{table.name}">{escape(table.title)}</h2>', _table(table)]
    parts.append("</body></html>")
    return "\n".join(parts).encode()


def _table(table: Table) -> str:
    head = "".join(f"<th>{escape(column.heading)}</th>" for column in table.columns)
    rows = []
    for number, row in enumerate(table.rows):
        cells = "".join(_cell(c, v) for c, v in zip(table.columns, row, strict=True))
        css = ' class="total"' if number in table.total_rows else ""
        rows.append(f"<tr{css}>{cells}</tr>")
    body = "\n".join(rows)
    return (
        f'<div class="scroll"><table data-table="{table.name}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def _cell(column: Column, value: Cell) -> str:
    if value is None:
        return "<td></td>"
    if column.kind == "int" and isinstance(value, int):
        return f'<td class="int">{value:,}</td>'
    text = str(value)
    if column.kind == "instant":
        text = text[:19].replace("T", " ")
    status = status_of(column, value)
    css = f' class="{status}"' if status else ""
    return f"<td{css}>{escape(text)}</td>"
