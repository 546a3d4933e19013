"""The demo's output folder: the national summary in every format, fetched from reports."""

import json
from pathlib import Path

import httpx

SUMMARY_FORMATS = {"json": "national-summary.json", "xlsx": "national-summary.xlsx",
                   "pdf": "communique.pdf", "html": "dashboard.html"}  # fmt: skip


def collect_outputs(reports_url: str, notify_url: str, staff_token: str, out: Path) -> list[Path]:
    headers = {"Authorization": f"Bearer {staff_token}"}
    written: list[Path] = []
    with httpx.Client(timeout=60, headers=headers) as http:
        for fmt, name in SUMMARY_FORMATS.items():
            response = http.get(f"{reports_url}/v1/national-summary",
                                params={"campaign": "2021", "format": fmt})  # fmt: skip
            response.raise_for_status()
            written.append(_write(out / name, response.content))
        summary = json.loads((out / "national-summary.json").read_text(encoding="utf-8"))
        written.append(_write(out / "communique.txt", summary.get("communique", "").encode()))
        response = http.get(f"{reports_url}/v1/national-summary",
                            params={"campaign": "2021", "format": "csv"})  # fmt: skip
        response.raise_for_status()
        written.append(_write(out / _csv_name(response), response.content))
        reminders = http.get(f"{notify_url}/v1/reminders")
        reminders.raise_for_status()
        written.append(_write(out / "reminders.json", reminders.content))
    written.extend(sorted((out / "emails").glob("*.eml")))
    return written


def _csv_name(response: httpx.Response) -> str:
    kind = response.headers.get("content-type", "")
    return "tables.zip" if "zip" in kind else "statistics.csv"


def _write(path: Path, content: bytes) -> Path:
    path.write_bytes(content)
    return path
