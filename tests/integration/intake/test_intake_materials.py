"""Materials (good practices, videos, pictures): checked by their bytes, kept in the blob store."""

import hashlib
from typing import Any

import pytest

pytestmark = pytest.mark.integration

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(64))
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + bytes(64)
FORM = {"unit": "44", "kind": "picture", "title": "6·16咨询日现场", "description": "广州主会场"}


async def send(intake: Any, form: dict[str, str] | None = None, file: Any = None,
               unit: str = "44") -> Any:  # fmt: skip
    return await intake.client.post(
        "/v1/materials", data=form or FORM, files={"file": file} if file else None,
        headers=intake.auth("unit", unit),
    )  # fmt: skip


async def test_a_picture_is_kept_by_its_sha256_and_announced_without_its_bytes(
    intake: Any,
) -> None:
    answer = await send(intake, file=("现场.png", PNG, "image/png"))

    assert answer.status_code == 202, answer.text
    (event,) = await intake.events("material.submitted")
    file = event["data"]["file"]
    assert set(file) == {"filename", "content_type", "size", "sha256", "location"}
    assert file["sha256"] == hashlib.sha256(PNG).hexdigest() and file["size"] == len(PNG)
    assert (intake.settings.blob_dir / file["location"]).read_bytes() == PNG
    (row,) = await intake.rows("SELECT file->>'sha256' AS sha256 FROM materials")
    assert row["sha256"] == file["sha256"]


async def test_a_video_is_accepted(intake: Any) -> None:
    answer = await send(intake, {**FORM, "kind": "video"}, ("demo.mp4", MP4, "video/mp4"))

    assert answer.status_code == 202


async def test_a_good_practice_may_come_without_a_file(intake: Any) -> None:
    answer = await send(intake, {**FORM, "kind": "practice", "description": "“安全吹哨人”制度"})

    assert answer.status_code == 202
    (event,) = await intake.events("material.submitted")
    assert event["data"]["file"] is None


async def test_a_video_may_be_sent_as_a_description_without_its_file(intake: Any) -> None:
    answer = await send(
        intake, {**FORM, "kind": "video", "description": "见 https://v.example.cn/616"}
    )

    assert answer.status_code == 202


async def test_a_type_off_the_allow_list_of_the_kind_is_refused_with_415(intake: Any) -> None:
    answer = await send(intake, file=("doc.pdf", b"%PDF-1.4 x", "application/pdf"))

    assert answer.status_code == 415 and "image/jpeg" in answer.json()["detail"]


async def test_a_file_whose_bytes_are_not_its_declared_type_is_refused(intake: Any) -> None:
    answer = await send(intake, {**FORM, "kind": "video"}, ("clip.mp4", PNG, "video/mp4"))

    assert answer.status_code == 415
    assert not list(intake.settings.blob_dir.rglob("*/*"))


async def test_a_file_over_the_limit_is_refused_with_413(start_intake: Any) -> None:
    async with start_intake(max_upload_bytes=100) as intake:
        answer = await send(intake, file=("big.png", PNG + bytes(200), "image/png"))

    assert answer.status_code == 413 and answer.json()["detail_zh"]


async def test_a_body_far_over_the_limit_is_refused_before_it_is_read(start_intake: Any) -> None:
    async with start_intake(max_upload_bytes=100) as intake:
        answer = await send(intake, file=("huge.png", PNG + bytes(1_000_000), "image/png"))

    assert answer.status_code == 413


async def test_an_unknown_kind_is_refused_naming_the_kinds(intake: Any) -> None:
    answer = await send(intake, {**FORM, "kind": "poster"}, ("a.png", PNG, "image/png"))

    assert answer.status_code == 422
    assert "picture" in answer.json()["errors"][0]["msg_zh"]


async def test_json_instead_of_a_form_is_refused_with_415(intake: Any) -> None:
    answer = await intake.client.post("/v1/materials", json=FORM, headers=intake.auth("unit", "44"))

    assert answer.status_code == 415


async def test_a_unit_cannot_send_material_for_another_and_nothing_is_kept(intake: Any) -> None:
    answer = await send(intake, {**FORM, "unit": "45"}, ("a.png", PNG, "image/png"))

    assert answer.status_code == 403
    assert not list(intake.settings.blob_dir.rglob("*/*"))
