"""Which files intake takes, told by their first bytes rather than by what the sender claims.

A declared content type is checked twice: it must be on the allow-list of what is being sent,
and it must be what the file's magic bytes say it is. No I/O here: the caller reads the head of
the file and, for a ZIP container, the names inside it.
"""

from collections.abc import Iterable

from smonth_shared.problems import FieldError, Problem

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
JPEG, PNG, GIF, WEBP = "image/jpeg", "image/png", "image/gif", "image/webp"
MP4, QUICKTIME, WEBM = "video/mp4", "video/quicktime", "video/webm"
ZIP = "application/zip"

ALLOWED: dict[str, tuple[str, ...]] = {
    "summary": (PDF, DOCX),
    "practice": (PDF, DOCX, JPEG, PNG),
    "picture": (JPEG, PNG, GIF, WEBP),
    "video": (MP4, QUICKTIME, WEBM),
}
# What senders commonly write for the same thing.
ALIASES = {"image/jpg": JPEG, "image/pjpeg": JPEG, "application/x-pdf": PDF}
HEAD_BYTES = 64


def sniff(head: bytes, zip_names: Iterable[str] = ()) -> str | None:
    """The content type the bytes show, or None when they show nothing intake knows."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head[4:8] == b"ftyp":
        return QUICKTIME if head[8:10] == b"qt" else MP4
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return WEBM
    if head.startswith(b"PK\x03\x04"):
        return DOCX if "word/document.xml" in set(zip_names) else ZIP
    return None


def is_zip(head: bytes) -> bool:
    return head.startswith(b"PK\x03\x04")


def check(purpose: str, declared: str | None, found: str | None) -> str:
    """The file's content type, or a 415 naming what is accepted for `purpose`."""
    allowed = ALLOWED[purpose]
    named = ALIASES.get((declared or "").lower(), (declared or "").lower().split(";")[0].strip())
    listed = ", ".join(allowed)
    if named not in allowed:
        raise _unsupported(
            f"the file is declared as '{named or 'nothing'}'; accepted here: {listed}",
            f"不接受此类文件（{named or '未声明类型'}）；可上传：{listed}",
        )
    if found != named:
        raise _unsupported(
            f"the file is declared as '{named}' but its content is "
            f"{found or 'of no accepted kind'}; accepted here: {listed}",
            f"文件声明的类型（{named}）与其实际内容不符；可上传：{listed}",
        )
    return named


def _unsupported(msg: str, msg_zh: str) -> Problem:
    return Problem(
        415, "Unsupported file type", f"file: {msg}", f"file：{msg_zh}",
        errors=[FieldError(loc=["file"], msg=msg, msg_zh=msg_zh)],
    )  # fmt: skip
