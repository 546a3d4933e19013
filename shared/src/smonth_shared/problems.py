"""Errors as RFC 9457 problem documents, with field paths and a Chinese message beside the English.

A clerk reads `msg_zh`; an integrator reads `loc` and `msg`.
"""

from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"

# Pydantic's error types in words a clerk understands; the English `msg` stays pydantic's own.
ZH_BY_ERROR_TYPE = {
    "missing": "必填项未填写",
    "string_type": "应为文字",
    "string_too_short": "内容过短或为空",
    "string_too_long": "内容过长",
    "string_pattern_mismatch": "格式不正确",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "greater_than_equal": "数值不能小于下限",
    "less_than_equal": "数值不能大于上限",
    "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD",
    "date_parsing": "日期格式应为 YYYY-MM-DD",
    "date_type": "日期格式应为 YYYY-MM-DD",
    "literal_error": "取值不在允许范围内",
    "enum": "取值不在允许范围内",
    "extra_forbidden": "不允许的字段",
    "bool_parsing": "应为是或否（true/false）",
    "json_invalid": "请求内容不是有效的 JSON",
    "model_type": "格式不正确",
    "dict_type": "应为对象",
    "url_parsing": "网址格式不正确",
    "url_scheme": "网址应以 http:// 或 https:// 开头",
    "value_error": "取值不符合要求",
    "uuid_parsing": "编号格式不正确",
}


class FieldError(BaseModel):
    loc: list[str | int]
    msg: str
    msg_zh: str


class Problem(Exception):
    """A refusal the caller can act on: the status, what went wrong in English and in Chinese."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        detail_zh: str,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.title = title
        self.detail = detail
        self.detail_zh = detail_zh
        self.errors = list(errors)
        self.headers = headers
        self.extra = extra or {}

    @classmethod
    def invalid(cls, loc: Sequence[str | int], msg: str, msg_zh: str) -> "Problem":
        """One field refused by a rule of the campaign (422, like a schema error)."""
        return cls(
            422,
            "Invalid submission",
            f"{'.'.join(map(str, loc))}: {msg}",
            f"{'.'.join(map(str, loc))}：{msg_zh}",
            errors=[FieldError(loc=list(loc), msg=msg, msg_zh=msg_zh)],
        )

    def body(self, instance: str) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "detail_zh": self.detail_zh,
            "instance": instance,
        }
        if self.errors:
            document["errors"] = [error.model_dump() for error in self.errors]
        document.update(self.extra)
        return document


def field_errors(raw_errors: Sequence[Any]) -> list[FieldError]:
    return [
        FieldError(
            loc=[part for part in error["loc"] if part not in ("body",)] or ["body"],
            msg=error["msg"],
            msg_zh=ZH_BY_ERROR_TYPE.get(error["type"], "填写不符合要求"),
        )
        for error in raw_errors
    ]


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, problem: Problem) -> JSONResponse:
        return JSONResponse(
            problem.body(request.url.path),
            status_code=problem.status,
            media_type=PROBLEM_JSON,
            headers=problem.headers,
        )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        errors = field_errors(error.errors())
        first = errors[0]
        problem = Problem(
            422,
            "Invalid submission",
            f"{'.'.join(map(str, first.loc))}: {first.msg}",
            f"{'.'.join(map(str, first.loc))}：{first.msg_zh}",
            errors=errors,
        )
        return await _problem(request, problem)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        zh = {404: "未找到", 405: "不支持的请求方法", 401: "未登录或凭证无效", 403: "无权操作"}
        problem = Problem(
            error.status_code,
            str(error.detail),
            str(error.detail),
            zh.get(error.status_code, "请求未被接受"),
            headers=getattr(error, "headers", None),
        )
        return await _problem(request, problem)
