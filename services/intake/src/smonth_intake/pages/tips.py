"""The 12350 pages: a tip, its receipt shown once, and the look-up by receipt code.

The code is in no URL (every form is a POST, the receipt is the answer to it, never a redirect)
and in no log; the pages are not cached."""

from typing import Any, TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, ValidationError
from starlette.datastructures import FormData

from smonth_intake import domain
from smonth_intake.config import IntakeSettings
from smonth_intake.models import TipLookup, TipSubmission
from smonth_intake.pages.csrf import COOKIE, FIELD, Csrf
from smonth_intake.pages.rendering import html, refusal
from smonth_intake.routes import client_address
from smonth_intake.tipline import Tipline
from smonth_shared.campaign import Campaign
from smonth_shared.problems import Problem, problem_of

LABELS = {
    "province": "所在省份", "industry": "行业领域", "category": "举报类别",
    "description": "具体情况", "city": "城市或区县", "location": "详细地点",
    "enterprise": "涉及企业或单位", "occurred_on": "发现日期",
    "contact_name": "姓名", "contact_phone": "电话", "contact_email": "电子邮箱",
}  # fmt: skip
CONTACT = {"contact_name": "name", "contact_phone": "phone", "contact_email": "email"}
CATEGORIES = {"major_hazard": "重大事故隐患", "violation": "安全生产非法违法行为"}
STATUSES = {"received": "已受理，正在核查", "verified": "经核查属实", "unfounded": "经核查不属实"}
LOOKUP_FIELDS = {"receipt_code": "回执码"}
Model = TypeVar("Model", bound=BaseModel)
EXPIRED = {"kind": "error", "text": "页面已过期或来自其他网站，请检查内容后再次点击提交。"}


def router(settings: IntakeSettings, campaign: Campaign, tipline: Tipline) -> APIRouter:
    pages = APIRouter()
    csrf = Csrf(settings.safety_month_jwt_secret)

    def render(request: Request, template: str, status: int = 200,
               headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:  # fmt: skip
        nonce = csrf.nonce(request.cookies.get(COOKIE))
        context.setdefault("banner", None)
        response = html(template, status, headers, campaign=campaign, csrf_field=FIELD,
                        csrf_token=csrf.token(nonce), **context)  # fmt: skip
        response.set_cookie(COOKIE, nonce, httponly=True, samesite="strict", path="/tips",
                            secure=request.url.scheme == "https")  # fmt: skip
        return response

    def tip_form(request: Request, values: dict[str, str], status: int = 200,
                 problem: Problem | None = None, **context: Any) -> HTMLResponse:  # fmt: skip
        errors, banner = refusal(problem, LABELS) if problem else ({}, None)
        if banner and problem and problem.status == 429:
            banner["note"] = "您填写的内容已保留，到时再点击“提交举报”即可。"
        return render(
            request, "tip.html", status, problem and problem.headers, page="tip",
            title="我要举报", values=dict.fromkeys(LABELS, "") | values, errors=errors, labels=LABELS,
            provinces=campaign.provinces, industries=campaign.industries, categories=CATEGORIES,
            today=domain.office_today(campaign, tipline.runtime.clock.now()).isoformat(),
            **({"banner": banner} if banner else {}), **context,
        )  # fmt: skip

    def lookup_form(request: Request, status: int = 200, problem: Problem | None = None,
                    result: dict[str, Any] | None = None) -> HTMLResponse:  # fmt: skip
        errors, banner = refusal(problem, LOOKUP_FIELDS) if problem else ({}, None)
        return render(
            request, "lookup.html", status, problem and problem.headers, page="lookup",
            title="查询办理结果", errors=errors, result=result, statuses=STATUSES,
            **({"banner": banner} if banner else {}),
        )  # fmt: skip

    @pages.get("/tips")
    async def new_tip(request: Request) -> HTMLResponse:
        return tip_form(request, {})

    @pages.post("/tips")
    async def send_tip(request: Request) -> HTMLResponse:
        form = await request.form()
        values = {name: _text(form, name) for name in LABELS}
        if not csrf.valid(request.cookies.get(COOKIE), _text(form, FIELD)):
            return tip_form(request, values, 403, banner=EXPIRED)
        try:
            tip = _validated(TipSubmission, _tip_body(values))
            answer = await tipline.submit(client_address(request), tip)
        except Problem as problem:
            return tip_form(request, values, problem.status, problem)
        return render(request, "receipt.html", page="receipt", title="举报已提交",
                      receipt_code=answer["receipt_code"])  # fmt: skip

    @pages.get("/tips/lookup")
    async def lookup(request: Request) -> HTMLResponse:
        return lookup_form(request)

    @pages.post("/tips/lookup")
    async def look_up(request: Request) -> HTMLResponse:
        form = await request.form()
        if not csrf.valid(request.cookies.get(COOKIE), _text(form, FIELD)):
            expired = Problem(403, "Expired form", "The form expired.", EXPIRED["text"])
            return lookup_form(request, 403, expired)
        try:
            lookup = _validated(TipLookup, {"receipt_code": _text(form, "receipt_code")})
            result = await tipline.look_up(client_address(request), lookup)
        except Problem as problem:
            if problem.status == 404:  # an unknown code is the field's fault
                problem = Problem.invalid(["receipt_code"], problem.detail, problem.detail_zh)
            return lookup_form(request, problem.status, problem)
        return lookup_form(request, result=result)

    return pages


def _text(form: FormData, name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _tip_body(values: dict[str, str]) -> dict[str, Any]:
    """The form as the API's body: an empty field is one not given."""
    body: dict[str, Any] = {
        name: value for name, value in values.items() if value and name not in CONTACT
    }
    contact = {key: values[name] for name, key in CONTACT.items() if values[name]}
    if contact:
        body["contact"] = contact
    return body


def _validated(model: type[Model], body: dict[str, Any]) -> Model:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        raise problem_of(error) from None
