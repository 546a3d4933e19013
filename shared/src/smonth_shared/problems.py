"""Errors as RFC 9457 problem documents, with field paths and a Chinese message beside the English.

A clerk reads `msg_zh`; an integrator reads `loc` and `msg`.
"""

from collections.abc import Sequence
from typing import Any, LiteralString

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticCustomError
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


def rule(kind: LiteralString, msg: LiteralString, msg_zh: str) -> PydanticCustomError:
    """A refusal raised inside a model validator, with its Chinese beside the English."""
    return PydanticCustomError(kind, msg, {"zh": msg_zh})


def field_errors(raw_errors: Sequence[Any], prefix: Sequence[str | int] = ()) -> list[FieldError]:
    """Pydantic's errors as field errors; the submitted value is never repeated (a tipster's
    phone number must not come back in an error, a log line or a dead letter)."""
    return [
        FieldError(
            loc=[*prefix, *(part for part in error["loc"] if part != "body")] or ["body"],
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
    if error["type"] == "string_too_short" and context.get("min_length", 1) > 1:
        return f"内容过短：至少 {context['min_length']} 个字"
    if error["type"] == "string_too_long" and "max_length" in context:
        return f"内容过长：最多 {context['max_length']} 个字"
    if error["type"] == "greater_than_equal" and "ge" in context:
        return f"不能小于 {context['ge']}"
    if error["type"] == "less_than_equal" and "le" in context:
        return f"不能大于 {context['le']}"
    if error["type"] in ("literal_error", "enum") and "expected" in context:
        return f"{zh}（可选：{context['expected']}）"
    return zh


def invalid(errors: Sequence[FieldError]) -> Problem:
    """422 naming every field refused; the first one in the detail."""
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


def _query_names(app: FastAPI, route: APIRoute, method: str) -> frozenset[str] | None:
    """The query parameters the service's own OpenAPI document gives the operation."""
    if not hasattr(app.state, "query_names"):
        app.state.query_names = {}
    cache: dict[tuple[str, str], frozenset[str] | None] = app.state.query_names
    key = (route.path_format, "get" if method == "HEAD" else method.lower())
    if key not in cache:
        operation = app.openapi()["paths"].get(key[0], {}).get(key[1])
        # An operation the document does not hold under this path is not refused on a guess.
        parameters = None if operation is None else operation.get("parameters", [])
        cache[key] = (
            None
            if parameters is None
            else frozenset(p["name"] for p in parameters if p.get("in") == "query")
        )
    return cache[key]


async def refuse_unknown_query_parameters(request: Request) -> None:
    """422 for a query parameter the operation does not take: `?stauts=failed` would otherwise
    be ignored and answer every reminder, and the caller would never learn of the typo."""
    # The raw query string first: most requests have none, and `request.url` parses the whole URL.
    if not request.scope.get("query_string"):
        return
    route = request.scope.get("route")
    if not isinstance(route, APIRoute) or not route.include_in_schema:
        return
    known = _query_names(request.app, route, request.method)
    if known is None:
        return
    unknown = sorted({name for name in request.query_params if name not in known})
    if unknown:
        takes = ", ".join(sorted(known)) or "none"
        raise invalid([
            FieldError(loc=["query", name],
                       msg=f"Unknown query parameter; this operation takes: {takes}",
                       msg_zh=f"不支持的查询参数（可用：{takes if known else '无'}）")
            for name in unknown
        ])  # fmt: skip


def problem_response(problem: Problem, path: str) -> JSONResponse:
    """The problem document answering a request for `path`."""
    return JSONResponse(
        problem.body(path), status_code=problem.status, media_type=PROBLEM_JSON,
        headers=problem.headers,
    )  # fmt: skip


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(Problem)
    async def _problem(request: Request, problem: Problem) -> JSONResponse:
        return problem_response(problem, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> JSONResponse:
        return await _problem(request, invalid(field_errors(error.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, error: StarletteHTTPException) -> JSONResponse:
        zh = {404: "未找到", 405: "不支持的请求方法", 401: "未登录或凭证无效", 403: "无权操作",
              413: "提交内容超过大小限制", 415: "不支持的文件类型", 429: "提交过于频繁，请稍后再试"}  # fmt: skip
        problem = Problem(
            error.status_code,
            str(error.detail),
            str(error.detail),
            zh.get(error.status_code, "请求未被接受"),
            headers=getattr(error, "headers", None),
        )
        return await _problem(request, problem)
