"""/unit: the signed-in liaison's desk — the unit's tasks, attachment 1 (as a form and as a
workbook), attachment 2 and the unit's own history.

The page is rendered from the campaign file alone and holds no unit's data: its script reads the
token the sign-in page keeps in the tab's sessionStorage and calls intake's own API with it
(`/v1/units/{unit}/tasks`, `/v1/progress`, `/v1/liaisons/{unit}`…), the same routes an integrator
calls. No cookie carries the identity, so a page of another site cannot act with it (no CSRF)."""

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from smonth_intake.pages.rendering import html
from smonth_shared.campaign import Campaign

LIAISON_FIELDS = {
    "name": {"label": "姓名", "type": "text", "autocomplete": "name", "hint": ""},
    "position": {"label": "职务", "type": "text", "autocomplete": "organization-title", "hint": ""},
    "office_phone": {"label": "办公电话", "type": "tel", "autocomplete": "tel",
                     "hint": "带区号，如 010-64463407"},
    "mobile": {"label": "手机", "type": "tel", "autocomplete": "tel", "hint": "11位手机号码"},
    "email": {"label": "电子邮箱", "type": "email", "autocomplete": "email", "hint": ""},
}  # fmt: skip


def router(campaign: Campaign) -> APIRouter:
    pages = APIRouter()

    @pages.get("/unit")
    async def desk() -> HTMLResponse:
        return html("unit.html", campaign=campaign, title="单位工作台", page="unit",
                    banner=None, liaison_fields=LIAISON_FIELDS)  # fmt: skip

    return pages
