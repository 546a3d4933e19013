"""Summary reports: JSON or a form with a PDF/DOCX; receipt by the clock; on time kept once earned."""

import hashlib
import io
import zipfile
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

pytestmark = pytest.mark.integration

REPORT = {
    "unit": "44",
    "title": "广东省2021年“安全生产月”活动总结",
    "body": "全省共开展宣传咨询活动……",
}
SHANGHAI = timezone(timedelta(hours=8))
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ON_THE_LAST_EVENING = datetime(2021, 7, 5, 23, 0, tzinfo=SHANGHAI)
THE_DAY_AFTER = datetime(2021, 7, 6, 0, 0, 5, tzinfo=SHANGHAI)


def docx() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return buffer.getvalue()


async def submit(intake: Any, unit: str = "44", **changes: Any) -> Any:
    return await intake.client.post(
        "/v1/summary-reports", json={**REPORT, "unit": unit, **changes},
        headers=intake.auth("unit", unit),
    )  # fmt: skip


async def submit_file(intake: Any, name: str, content: bytes, content_type: str) -> Any:
    return await intake.client.post(
        "/v1/summary-reports", data=REPORT, files={"file": (name, content, content_type)},
        headers=intake.auth("unit", "44"),
    )  # fmt: skip


async def test_a_summary_received_before_the_deadline_is_on_time(intake: Any) -> None:
    answer = await submit(intake)

    assert answer.status_code == 202 and answer.json()["on_time"] is True
    (event,) = await intake.events("summary.submitted")
    assert event["data"]["on_time"] is True
    received = datetime.fromisoformat(event["data"]["received_at"])
    assert abs((received - datetime(2021, 6, 20, 10, tzinfo=SHANGHAI)).total_seconds()) < 60


async def test_a_summary_received_after_the_deadline_in_office_time_is_late(
    start_intake: Any,
) -> None:
    async with start_intake(clock_start=THE_DAY_AFTER) as intake:
        answer = await submit(intake)

    assert answer.status_code == 202 and answer.json()["on_time"] is False


async def test_a_late_resubmission_replaces_the_text_but_keeps_the_on_time_receipt(
    start_intake: Any,
) -> None:
    async with start_intake(clock_start=ON_THE_LAST_EVENING) as intake:
        first = await submit(intake)
    async with start_intake(clock_start=THE_DAY_AFTER) as intake:
        again = await submit(intake, title="总结（修订稿）", body="修订后的正文")
        (report,) = await intake.rows("SELECT * FROM summary_reports")
        submissions = await intake.rows(
            "SELECT on_time FROM summary_submissions ORDER BY received_at"
        )
        events = await intake.events("summary.submitted")

    assert again.json()["id"] == first.json()["id"] and again.json()["on_time"] is True
    assert (report["title"], report["body"], report["on_time"]) == (
        "总结（修订稿）",
        "修订后的正文",
        True,
    )
    assert report["first_received_at"] < report["last_received_at"]
    assert [s["on_time"] for s in submissions] == [True, False]
    assert events[1]["data"]["on_time"] is True
    first_receipt = datetime.fromisoformat(events[1]["data"]["first_received_at"])
    assert first_receipt == datetime.fromisoformat(events[0]["data"]["received_at"])


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [("总结.pdf", PDF, "application/pdf"),
     ("总结.docx", docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document")],
)  # fmt: skip
async def test_a_pdf_or_docx_file_is_kept_and_announced_by_its_metadata(
    intake: Any, name: str, content: bytes, content_type: str
) -> None:
    answer = await submit_file(intake, name, content, content_type)

    assert answer.status_code == 202, answer.text
    (event,) = await intake.events("summary.submitted")
    file = event["data"]["file"]
    assert file["sha256"] == hashlib.sha256(content).hexdigest()
    assert (file["size"], file["content_type"], file["filename"]) == (
        len(content),
        content_type,
        name,
    )
    assert (intake.settings.blob_dir / file["location"]).read_bytes() == content


async def test_a_resubmission_without_a_file_keeps_the_earlier_file(intake: Any) -> None:
    await submit_file(intake, "总结.pdf", PDF, "application/pdf")

    await submit(intake, body="正文更正")

    events = await intake.events("summary.submitted")
    assert events[1]["data"]["file"] == events[0]["data"]["file"]


async def test_a_file_of_another_type_is_refused_with_415(intake: Any) -> None:
    answer = await submit_file(intake, "photo.png", b"\x89PNG\r\n\x1a\n0000", "image/png")

    assert answer.status_code == 415
    assert "application/pdf" in answer.json()["detail"] and answer.json()["detail_zh"]


async def test_a_file_that_only_claims_to_be_a_pdf_is_refused(intake: Any) -> None:
    answer = await submit_file(intake, "report.pdf", b"MZ\x90\x00 not a pdf", "application/pdf")

    assert answer.status_code == 415
    assert not list(intake.settings.blob_dir.rglob("*/*"))


async def test_a_file_over_the_limit_is_refused_with_413(start_intake: Any) -> None:
    async with start_intake(max_summary_bytes=1000) as intake:
        answer = await submit_file(intake, "big.pdf", PDF + b"0" * 2000, "application/pdf")

    assert answer.status_code == 413
    assert answer.headers["content-type"] == "application/problem+json"


async def test_a_body_that_is_neither_json_nor_a_form_is_refused_with_415(intake: Any) -> None:
    answer = await intake.client.post(
        "/v1/summary-reports", content="title=x", headers={**intake.auth("unit", "44"),
                                                           "content-type": "text/plain"},
    )  # fmt: skip

    assert answer.status_code == 415


async def test_a_missing_title_is_refused_naming_it(intake: Any) -> None:
    answer = await submit(intake, title="")

    assert answer.status_code == 422 and answer.json()["errors"][0]["loc"] == ["title"]


async def test_a_unit_cannot_submit_another_units_summary(intake: Any) -> None:
    answer = await intake.client.post(
        "/v1/summary-reports", json={**REPORT, "unit": "45"}, headers=intake.auth("unit", "44")
    )

    assert answer.status_code == 403
