"""Files are taken by what their bytes are, not by what the sender says they are."""

import io
import zipfile

import pytest

from smonth_intake import filetypes
from smonth_shared.problems import Problem

PDF_HEAD = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"
PNG_HEAD = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
MP4_HEAD = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00"


def docx_names() -> list[str]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("word/document.xml", "<w:document/>")
    return zipfile.ZipFile(buffer).namelist()


@pytest.mark.parametrize(
    ("head", "names", "expected"),
    [
        (PDF_HEAD, [], filetypes.PDF),
        (b"PK\x03\x04rest", docx_names(), filetypes.DOCX),
        (b"PK\x03\x04rest", ["xl/workbook.xml"], filetypes.ZIP),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", [], filetypes.JPEG),
        (PNG_HEAD, [], filetypes.PNG),
        (b"GIF89a\x01\x00", [], filetypes.GIF),
        (b"RIFF\x00\x00\x00\x00WEBPVP8 ", [], filetypes.WEBP),
        (MP4_HEAD, [], filetypes.MP4),
        (b"\x00\x00\x00\x14ftypqt  ", [], filetypes.QUICKTIME),
        (b"\x1a\x45\xdf\xa3\x9f", [], filetypes.WEBM),
        (b"MZ\x90\x00 an executable", [], None),
    ],
)
def test_the_magic_bytes_tell_the_type(head: bytes, names: list[str], expected: str | None) -> None:
    assert filetypes.sniff(head, names) == expected


def test_a_pdf_declared_as_a_pdf_passes_for_a_summary() -> None:
    assert filetypes.check("summary", "application/pdf", filetypes.PDF) == filetypes.PDF


def test_a_common_alias_of_the_declared_type_is_understood() -> None:
    assert filetypes.check("picture", "image/jpg", filetypes.JPEG) == filetypes.JPEG


def test_a_type_off_the_allow_list_is_refused_with_415_naming_what_is_accepted() -> None:
    with pytest.raises(Problem) as refused:
        filetypes.check("summary", "image/png", filetypes.PNG)

    assert refused.value.status == 415
    assert refused.value.errors[0].loc == ["file"]
    assert "application/pdf" in refused.value.detail


def test_a_file_whose_bytes_contradict_its_declared_type_is_refused() -> None:
    with pytest.raises(Problem) as refused:
        filetypes.check("picture", "image/png", None)  # e.g. an executable renamed .png

    assert refused.value.status == 415
    assert "content" in refused.value.detail


def test_a_video_is_not_taken_as_a_picture() -> None:
    with pytest.raises(Problem):
        filetypes.check("picture", "video/mp4", filetypes.MP4)
