"""A unit's desk through the real app: its tasks and their status, its history, its liaison, and
attachment 1 as a workbook — downloaded pre-filled, edited by LibreOffice, refused by the cell,
then accepted; a unit reads and writes only its own."""

import asyncio
import io
import subprocess
import zipfile
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from smonth_intake.workbook import XLSX

pytestmark = pytest.mark.integration

LIAISON = {"name": "李明", "position": "宣教处处长", "office_phone": "020-83135000",
           "mobile": "13800138000", "email": "liming@example.gov.cn"}  # fmt: skip
SOFFICE = "/usr/bin/soffice"
FIGURES = {"study_sessions": 1200, "study_participants": 36000, "media_reports": 80}


def tasks_by_name(answer: Any) -> dict[str, dict[str, Any]]:
    return {task["task"]: task for task in answer.json()["tasks"]}


async def test_a_new_province_owes_every_task_and_each_turns_done_when_sent(intake: Any) -> None:
    unit = intake.auth("unit", "44")
    before = tasks_by_name(await intake.client.get("/v1/units/44/tasks", headers=unit))
    assert {name: task["status"] for name, task in before.items()} == {
        "progress": "owed", "liaison": "owed", "summary": "owed", "materials": "owed",
        "cases": "owed",
    }  # fmt: skip
    assert before["summary"]["due"] == "2021-07-05"
    assert before["cases"]["due"] == "2021-06-30"

    await intake.client.post("/v1/progress", headers=unit, json={
        "unit": "44", "as_of": "2021-06-10", "indicators": FIGURES})  # fmt: skip
    await intake.client.put("/v1/liaisons/44", headers=unit, json=LIAISON)
    await intake.client.post("/v1/summary-reports", headers=unit, json={
        "unit": "44", "title": "广东省总结", "body": "活动开展情况……"})  # fmt: skip

    after = tasks_by_name(await intake.client.get("/v1/units/44/tasks", headers=unit))
    assert after["progress"]["status"] == "done"
    assert after["liaison"] == after["liaison"] | {"status": "done", "detail_zh": "联络员：李明"}
    assert after["summary"]["status"] == "done" and after["summary"]["detail_zh"] == "已按时报送"
    assert after["materials"]["status"] == "owed"


async def test_the_summary_report_is_read_back_as_it_stands_with_its_file(intake: Any) -> None:
    unit = intake.auth("unit", "44")
    before = await intake.client.get("/v1/summary-reports/44", headers=unit)
    assert before.status_code == 404 and before.json()["detail_zh"] == "本单位尚未报送总结报告。"
    pdf = b"%PDF-1.4\n%%EOF\n"
    await intake.client.post("/v1/summary-reports", headers=unit, data={
        "unit": "44", "title": "广东省总结", "body": "初稿"},
        files={"file": ("总结.pdf", pdf, "application/pdf")})  # fmt: skip
    await intake.client.post("/v1/summary-reports", headers=unit, json={
        "unit": "44", "title": "广东省总结", "body": "定稿"})  # fmt: skip

    report = (await intake.client.get("/v1/summary-reports/44", headers=unit)).json()
    file = await intake.client.get("/v1/summary-reports/44/file", headers=intake.auth("staff"))

    assert report["body"] == "定稿" and report["times"] == 2 and report["on_time"]
    assert report["file"] == {"filename": "总结.pdf", "content_type": "application/pdf",
                              "size": len(pdf)}  # fmt: skip
    assert report["first_received_at"] <= report["last_received_at"]
    assert file.content == pdf
    assert (
        file.headers["content-disposition"] == "attachment; filename*=UTF-8''%E6%80%BB%E7%BB%93.pdf"
    )
    other = await intake.client.get(
        "/v1/summary-reports/44/file", headers=intake.auth("unit", "45")
    )
    assert other.status_code == 403


async def test_a_ministry_has_no_exposure_case_task(intake: Any) -> None:
    answer = await intake.client.get("/v1/units/M01/tasks", headers=intake.auth("unit", "M01"))

    assert answer.status_code == 200
    assert answer.json()["name"] == "应急管理部"
    assert "cases" not in tasks_by_name(answer)


async def test_a_unit_reads_only_its_own_desk(intake: Any) -> None:
    other = intake.auth("unit", "45")
    for path in ("/v1/units/44/tasks", "/v1/units/44/submissions", "/v1/progress/44",
                 "/v1/liaisons/44", "/v1/progress/44/workbook"):  # fmt: skip
        answer = await intake.client.get(path, headers=other)
        assert answer.status_code == 403, path
        assert answer.json()["detail_zh"].startswith("本单位（45）只能为本单位报送")


async def test_the_history_lists_the_units_own_submissions_newest_first(intake: Any) -> None:
    unit = intake.auth("unit", "44")
    await intake.client.put("/v1/liaisons/44", headers=unit, json=LIAISON)
    await intake.client.put("/v1/liaisons/44", headers=unit, json=LIAISON | {"name": "王芳"})
    await intake.client.post("/v1/progress", headers=unit, json={
        "unit": "44", "as_of": "2021-06-10", "indicators": FIGURES})  # fmt: skip
    await intake.client.post("/v1/progress", headers=intake.auth("unit", "45"), json={
        "unit": "45", "as_of": "2021-06-10", "indicators": FIGURES})  # fmt: skip

    history = (await intake.client.get("/v1/units/44/submissions", headers=unit)).json()

    assert [(s["kind"], s["about"], s["status_zh"]) for s in history["submissions"]] == [
        ("progress", "2021-06-10", "已接收"), ("liaison", "王芳", "现任联络员"),
        ("liaison", "李明", "已被替换"),
    ]  # fmt: skip


async def test_the_current_liaison_is_read_back_for_attachment_2(intake: Any) -> None:
    unit = intake.auth("unit", "44")
    missing = await intake.client.get("/v1/liaisons/44", headers=unit)
    assert missing.status_code == 404 and missing.json()["detail_zh"] == "本单位尚未报送联络员。"

    await intake.client.put("/v1/liaisons/44", headers=unit, json=LIAISON)

    current = (await intake.client.get("/v1/liaisons/44", headers=unit)).json()
    assert current == current | LIAISON | {"unit": "44"}


def libreoffice_round_trip(source: Path, folder: Path) -> Path:
    """The workbook opened and saved again by LibreOffice Calc (headless), as a unit's Calc would."""
    out = folder / "saved-by-libreoffice"
    profile = (folder / "lo-profile").as_uri()
    subprocess.run(  # noqa: S603 - Debian's LibreOffice on our own files
        [SOFFICE, f"-env:UserInstallation={profile}", "--headless", "--norestore",
         "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", str(out), str(source)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    saved = out / source.name
    with zipfile.ZipFile(saved) as book:
        assert b"LibreOffice" in book.read("docProps/app.xml")
    return saved


def filled(template: bytes, path: Path, **cells: Any) -> Path:
    book = load_workbook(io.BytesIO(template))
    sheet = book.worksheets[0]
    for ref, value in cells.items():
        sheet[ref] = value
    book.save(path)
    return path


async def test_a_workbook_edited_in_libreoffice_is_refused_by_the_cell_then_accepted(
    intake: Any, tmp_path: Path
) -> None:
    unit = intake.auth("unit", "44")
    await intake.client.post("/v1/progress", headers=unit, json={
        "unit": "44", "as_of": "2021-06-10", "indicators": FIGURES})  # fmt: skip
    download = await intake.client.get("/v1/progress/44/workbook", headers=unit)
    assert download.status_code == 200
    assert download.headers["content-type"] == XLSX
    sheet = load_workbook(io.BytesIO(download.content)).worksheets[0]
    assert (sheet["D2"].value, sheet["C7"].value, sheet["E7"].value) == ("44", 1200, 1200)
    assert sheet.protection.sheet and not sheet["C7"].protection.locked
    assert sheet["B7"].protection.locked

    bad = filled(download.content, tmp_path / "bad.xlsx", B3="2021-06-20", C7=1100, C9="很多")
    bad = await asyncio.to_thread(libreoffice_round_trip, bad, tmp_path / "bad")
    refused = await intake.client.post("/v1/progress/workbook", headers=unit | {
        "Content-Type": XLSX}, content=bad.read_bytes())  # fmt: skip
    assert refused.status_code == 422, refused.text
    messages = [e["msg_zh"] for e in refused.json()["errors"]]
    assert messages == ["C9：应为整数"], messages  # a cell that is no figure, before any rule

    bad = filled(download.content, tmp_path / "low.xlsx", B3="2021-06-20", C7=1100)
    bad = await asyncio.to_thread(libreoffice_round_trip, bad, tmp_path / "low")
    refused = await intake.client.post("/v1/progress/workbook", headers=unit | {
        "Content-Type": XLSX}, content=bad.read_bytes())  # fmt: skip
    assert refused.status_code == 422
    [error] = refused.json()["errors"]
    assert error["loc"] == ["workbook", "C7"]
    assert error["msg_zh"].startswith("C7：") and "低于 2021-06-10 报送的 1200" in error["msg_zh"]
    assert len(await intake.rows("SELECT 1 FROM progress_snapshots")) == 1  # nothing stored

    good = filled(download.content, tmp_path / "good.xlsx", B3="2021-06-20", C7=1300)
    good = await asyncio.to_thread(libreoffice_round_trip, good, tmp_path / "good")
    accepted = await intake.client.post("/v1/progress/workbook", headers=unit | {
        "Content-Type": XLSX}, content=good.read_bytes())  # fmt: skip
    assert accepted.status_code == 202, accepted.text
    latest = (await intake.client.get("/v1/progress/44", headers=unit)).json()
    assert latest["as_of"] == "2021-06-20"
    assert latest["indicators"] == FIGURES | {"study_sessions": 1300}


async def test_a_workbook_for_another_unit_or_not_a_workbook_is_refused(
    intake: Any, tmp_path: Path
) -> None:
    template = await intake.client.get(
        "/v1/progress/45/workbook", headers=intake.auth("unit", "45")
    )
    other = filled(template.content, tmp_path / "45.xlsx", B3="2021-06-20",
                   **{f"C{row}": 1 for row in range(7, 7 + 15)})  # fmt: skip
    for_another = await intake.client.post("/v1/progress/workbook", headers=intake.auth(
        "unit", "44") | {"Content-Type": XLSX}, content=other.read_bytes())  # fmt: skip
    assert for_another.status_code == 403

    not_a_workbook = await intake.client.post("/v1/progress/workbook", headers=intake.auth(
        "unit", "44") | {"Content-Type": XLSX}, content=b"PK not really")  # fmt: skip
    assert not_a_workbook.status_code == 400
    assert "xlsx" in not_a_workbook.json()["detail_zh"]
