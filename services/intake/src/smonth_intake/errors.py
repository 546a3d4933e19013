"""Validation errors as problems a clerk can act on, over HTTP and on the inbound topic alike.

Intake's own rules raise `rule(...)` errors that carry their Chinese wording in the error's
context; pydantic's built-in errors get the shared wording by type. No message ever repeats the
submitted value: a tipster's phone number must not come back in an error, a log line or a dead
letter.
"""

from collections.abc import Sequence
from typing import Any, LiteralString

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from smonth_shared.problems import PROBLEM_JSON, ZH_BY_ERROR_TYPE, FieldError, Problem


def rule(kind: LiteralString, msg: LiteralString, msg_zh: str) -> PydanticCustomError:
    """A refusal raised inside a model validator, with its Chinese beside the English."""
    return PydanticCustomError(kind, msg, {"zh": msg_zh})


def field_errors(raw_errors: Sequence[Any], prefix: Sequence[str | int] = ()) -> list[FieldError]:
    return [
        FieldError(
            loc=[*prefix, *(p for p in error["loc"] if p != "body")] or ["body"],
            msg=error["msg"],
            msg_zh=_zh(error),
        )
        for error in raw_errors
    ]


def _zh(error: Any) -> str:
    context = error.get("ctx") or {}
    if isinstance(context.get("zh"), str):
        return context["zh"]
    zh = ZH_BY_ERROR_TYPE.get(error["type"], "填写不符合要求")
    if error["type"] in ("literal_error", "enum") and "expected" in context:
        return f"{zh}（可选：{context['expected']}）"
    return zh


def invalid(errors: Sequence[FieldError]) -> Problem:
    first = errors[0]
    where = ".".join(map(str, first.loc))
    return Problem(
        422, "Invalid submission", f"{where}: {first.msg}", f"{where}：{first.msg_zh}",
        errors=errors,
    )  # fmt: skip


def problem_of(error: ValidationError, prefix: Sequence[str | int] = ()) -> Problem:
    return invalid(field_errors(error.errors(include_input=False), prefix))


def reason(problem: Problem) -> str:
    """One line for a dead letter's `error` header: every field and what is wrong with it."""
    if not problem.errors:
        return f"{problem.status} {problem.title}: {problem.detail}"
    return "; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in problem.errors)


async def on_invalid_request(request: Request, error: Exception) -> JSONResponse:
    """Replaces the shared handler so that intake's rules answer in their own Chinese wording."""
    assert isinstance(error, RequestValidationError)
    problem = invalid(field_errors(error.errors()))
    return JSONResponse(problem.body(request.url.path), status_code=422, media_type=PROBLEM_JSON)
