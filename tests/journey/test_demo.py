"""The main job, shortened: the 2021 campaign played through the real system at small scale.

Every output must exist and agree with the others and with what the driver sent.
"""

import io
import json
import socket
from collections import Counter
from email import policy
from email.parser import BytesParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from PIL import Image
from pypdf import PdfReader
from rich.console import Console

from safety_month.demo.run import DemoOptions, run_demo
from safety_month.demo.sinks import free_port
from smonth_intake.accounts import ACTIVATION_SUBJECT

pytestmark = [pytest.mark.integration, pytest.mark.journey, pytest.mark.slow]

OUTPUTS = ("national-summary.json", "national-summary.xlsx", "communique.pdf", "communique.txt",
           "dashboard.html", "statistics.csv", "reminders.json", "demo-result.json")  # fmt: skip


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    out = tmp_path_factory.mktemp("demo")
    console = Console(file=io.StringIO(), width=120)
    result = run_demo(DemoOptions(out=out, tips=80, speed=250_000, ports=_free_ports()), console)
    return out, result


def test_every_output_is_written(demo: tuple[Path, dict[str, Any]]) -> None:
    out, result = demo
    for name in OUTPUTS:
        assert (out / name).stat().st_size > 0, name
    assert sorted((out / "emails").glob("*.eml")), "no reminder e-mail reached the SMTP sink"
    assert result["refused"] == {}, result["errors"]


def test_the_liaisons_task_page_and_the_tip_page_are_photographed_at_360_px(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    out, result = demo
    for name in ("unit-tasks-360.png", "tip-360.png"):
        assert f"screenshots/{name}" in result["outputs"]
        with Image.open(out / "screenshots" / name) as picture:
            assert picture.format == "PNG" and picture.width == 720  # 360 px at a scale of 2
            darkest, lightest = picture.convert("L").getextrema()
            assert darkest < 80 < 200 < lightest  # dark text on a light page, not a blank


def test_the_summary_shows_exactly_what_the_driver_sent(demo: tuple[Path, dict[str, Any]]) -> None:
    out, result = demo
    summary = json.loads((out / "national-summary.json").read_text(encoding="utf-8"))
    sent = result["sent"]
    assert summary["totals"] == result["expected"]["totals"]
    assert summary["units"]["reported"] == len(result["units_reported"]) == 101
    assert summary["units"]["liaisons"] == sent["liaison"]
    on_time = sum(result["summary_on_time"].values())
    assert summary["units"]["summary_on_time"] == on_time
    assert summary["units"]["summary_late"] == sent["summary"] - on_time
    assert summary["units"]["summary_missing"] == 101 - sent["summary"] == 2
    assert summary["tips"]["received"] == sent["tip"]
    assert summary["tips"]["verified"] == result["outcomes_verified"]
    assert summary["exposure"]["cases_total"] == sent["case"]


def test_the_workbook_and_the_communique_agree_with_the_summary(
    demo: tuple[Path, dict[str, Any]],
) -> None:
    out, _ = demo
    summary = json.loads((out / "national-summary.json").read_text(encoding="utf-8"))
    workbook = openpyxl.load_workbook(out / "national-summary.xlsx")
    cells = {
        cell for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row
    }
    for code, total in summary["totals"].items():
        assert total in cells, f"the workbook lacks the national total of {code}"
    pdf_text = "".join(page.extract_text() for page in PdfReader(out / "communique.pdf").pages)
    compact = "".join(pdf_text.split())
    assert "".join(summary["communique"].split()[0]) in compact
    assert (out / "communique.txt").read_text(encoding="utf-8") == summary["communique"]


def test_every_unit_submits_as_its_liaison_signed_in(demo: tuple[Path, dict[str, Any]]) -> None:
    """The office issues each unit's liaison an account; each takes up the mailed invitation and
    signs in, and every HTTP submission of a unit carries that sign-in's token (a refused one
    would show in `refused`)."""
    _, result = demo
    assert result["liaisons_signed_in"] == 101
    assert result["refused"] == {}, result["errors"]


def test_every_reminder_e_mail_sent_is_in_the_sink(demo: tuple[Path, dict[str, Any]]) -> None:
    """Besides the reminders, the sink holds one activation mail per unit: its liaison's
    account, which designating the same person as liaison does not issue again."""
    out, result = demo
    reminders = json.loads((out / "reminders.json").read_text(encoding="utf-8"))
    rows = reminders if isinstance(reminders, list) else reminders.get("reminders", [])
    sent_by_mail = [r for r in rows if r["channel"] == "email" and r["status"] == "sent"]
    subjects = Counter(_subject(path) for path in (out / "emails").glob("*.eml"))
    activations = subjects.pop(ACTIVATION_SUBJECT, 0)
    assert len(sent_by_mail) == sum(subjects.values())
    assert activations == result["liaisons_signed_in"] == 101


def _free_ports() -> tuple[int, int]:
    """A port for Kafka whose next two (its controller's, its admin listener's) are free too,
    and one for PostgreSQL."""
    kafka = free_port()
    while not (_bindable(kafka + 1) and _bindable(kafka + 2)):
        kafka = free_port()
    return kafka, free_port()


def _bindable(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _subject(path: Path) -> str:
    with path.open("rb") as handle:
        message = BytesParser(policy=policy.default).parse(handle)
    return str(message["Subject"])
