"""Request bodies that are not a single JSON model: multipart forms with a file, and CSV.

Bodies are read against a size limit as they arrive (413 as soon as it is passed), and files are
checked by their magic bytes before anything is kept.
"""

import contextlib
from collections.abc import AsyncIterator
from typing import Any, TypeVar

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData, Headers, UploadFile
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from smonth_intake import blobs, filetypes
from smonth_shared import problems
from smonth_shared.events import AttachedFile
from smonth_shared.problems import PROBLEM_JSON, Problem

M = TypeVar("M", bound=BaseModel)
FORM_OVERHEAD = 64 * 1024  # the text fields and part headers beside the file
JSON_LIMIT = 1024 * 1024  # every body but an upload's


def upload_limit(file_limit: int) -> int:
    """The route's limit of an upload; `bounded` refuses first, with the figure in its answer."""
    return file_limit + 2 * FORM_OVERHEAD


FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")  # the latter: no file


def too_large(limit: int) -> Problem:
    mib = f"{limit / 1024 / 1024:.1f} MiB"
    return Problem(
        413, "Too large", f"The request exceeds the limit of {limit} bytes ({mib}).",
        f"上传内容超过大小上限（{mib}）。",
    )  # fmt: skip


def bounded(request: Request, limit: int) -> Request:
    """The same request, refusing with 413 as soon as its body passes `limit` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    received = 0
    receive = request.receive

    async def limited() -> Message:
        nonlocal received
        message = await receive()
        received += len(message.get("body", b""))
        if received > limit:
            raise too_large(limit)
        return message

    return Request(request.scope, limited)


class DeclaredLength:
    """ASGI middleware: a body that declares a length over its route's limit is refused at once,
    as a problem document. (A chunked body is cut off by the routes' own `max_body_size`.)"""

    def __init__(self, app: ASGIApp, *, limits: dict[str, int], default: int) -> None:
        self.app = app
        self.limits = limits
        self.default = default

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            limit = self.limits.get(scope["path"], self.default)
            declared = Headers(scope=scope).get("content-length", "")
            if declared.isdigit() and int(declared) > limit:
                body = too_large(limit).body(scope["path"])
                await JSONResponse(body, 413, media_type=PROBLEM_JSON)(scope, receive, send)
                return
        await self.app(scope, receive, send)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def unsupported_media(accepted: str) -> Problem:
    return Problem(
        415, "Unsupported media type", f"Send the body as {accepted}.",
        f"请以 {accepted} 格式提交。",
    )  # fmt: skip


async def json_body(request: Request, model: type[M]) -> M:
    raw = await bounded(request, JSON_LIMIT).body()
    try:
        return model.model_validate_json(raw)
    except ValidationError as error:
        raise problems.problem_of(error) from None


@contextlib.asynccontextmanager
async def submission(
    request: Request, model: type[M], *, file_limit: int, json_too: bool = False
) -> AsyncIterator[tuple[M, UploadFile | None]]:
    """The body as `model` and its `file` part, if any: a multipart form (or JSON, without a
    file, when `json_too`). The form's spooled files are closed on leaving."""
    if json_too and media_type(request) == "application/json":
        yield await json_body(request, model), None
        return
    if media_type(request) not in FORM_TYPES:
        raise unsupported_media(
            "multipart/form-data" + (" or application/json" if json_too else "")
        )
    try:
        form = await bounded(request, file_limit + FORM_OVERHEAD).form(max_files=1, max_fields=16)
    except (Problem, HTTPException):  # too large
        raise
    except Exception:  # starlette answers a malformed form with its own 400; ours explains
        raise Problem(400, "Unreadable form", "The multipart body cannot be read.",
                      "无法读取上传的表单内容。") from None  # fmt: skip
    try:
        yield _fields(form, model)
    finally:
        await form.close()


def _fields(form: FormData, model: type[M]) -> tuple[M, UploadFile | None]:
    fields: dict[str, Any] = {}
    file: UploadFile | None = None
    for name, value in form.multi_items():
        if name == "file" and isinstance(value, UploadFile):
            file = value
        elif isinstance(value, str):
            fields[name] = value
        else:
            raise Problem.invalid([name], "only the field 'file' may be a file",
                                  "只有 file 字段可以上传文件")  # fmt: skip
    try:
        submitted = model.model_validate(fields)
    except ValidationError as error:
        raise problems.problem_of(error) from None
    if file is not None and not file.filename and blobs.size_of(file.file) == 0:
        file = None  # an empty file input in a browser form: no file was chosen
    return submitted, file


async def keep_file(
    store: blobs.BlobStore, file: UploadFile, purpose: str, limit: int
) -> AttachedFile:
    """Checks the file's size and type (declared and by its bytes), then keeps it."""
    size = blobs.size_of(file.file)
    if size > limit:
        raise too_large(limit)
    if size == 0:
        raise Problem.invalid(["file"], "the file is empty", "上传的文件是空的")
    head, names = await blobs.inspect(file.file, filetypes.HEAD_BYTES)
    content_type = filetypes.check(purpose, file.content_type, filetypes.sniff(head, names))
    stored = await store.put(file.file)
    return AttachedFile(
        filename=_safe_name(file.filename), content_type=content_type, size=stored.size,
        sha256=stored.sha256, location=stored.location,
    )  # fmt: skip


def _safe_name(filename: str | None) -> str:
    """The name as the sender's machine had it, without folders or control characters."""
    name = (filename or "file").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable())[-200:]
    return name or "file"


async def csv_body(request: Request, limit: int) -> str:
    if media_type(request) not in ("text/csv", "text/plain"):
        raise unsupported_media("text/csv (UTF-8)")
    raw = await bounded(request, limit).body()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "Not UTF-8", "Save the CSV as UTF-8 text.",
                      "请将 CSV 文件另存为 UTF-8 编码。") from None  # fmt: skip
