"""/portal/unit/…: a signed-in liaison's summary report, materials and typical cases, and
/portal/office/accounts, the office's account administration.

Each page is a template holding only the campaign's facts (deadline, the files each form takes,
the units' names); its script (app.js) reads the tokens the sign-in page keeps in the tab's
sessionStorage and calls intake's own API with them, the same routes an integrator calls. No page
reads the database.
"""

import json
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from smonth_intake import domain, filetypes
from smonth_intake.config import IntakeSettings
from smonth_intake.pages.rendering import chinese_day, html
from smonth_shared.campaign import Campaign
from smonth_shared.clock import Clock

KINDS = {"practice": "典型做法", "video": "视频", "picture": "图片"}
ROLES = {"unit": "单位联络员", "staff": "办公室工作人员", "admin": "管理员"}
STATUSES = {"invited": "待激活", "active": "已激活", "withdrawn": "已停用"}
FILE_LABELS = {
    filetypes.PDF: "PDF", filetypes.DOCX: "Word（DOCX）", filetypes.JPEG: "JPG",
    filetypes.PNG: "PNG", filetypes.GIF: "GIF", filetypes.WEBP: "WEBP", filetypes.MP4: "MP4",
    filetypes.QUICKTIME: "MOV", filetypes.WEBM: "WEBM",
}  # fmt: skip
# What a browser may leave empty or name otherwise: the type told by the file's name instead.
EXTENSIONS = {
    "pdf": filetypes.PDF, "docx": filetypes.DOCX, "jpg": filetypes.JPEG, "jpeg": filetypes.JPEG,
    "png": filetypes.PNG, "gif": filetypes.GIF, "webp": filetypes.WEBP, "mp4": filetypes.MP4,
    "mov": filetypes.QUICKTIME, "webm": filetypes.WEBM,
}  # fmt: skip


def router(settings: IntakeSettings, campaign: Campaign, clock: Clock) -> APIRouter:
    pages = APIRouter(include_in_schema=False)

    def render(template: str, page: str, title: str, **context: Any) -> HTMLResponse:
        facts = {"units": {u.code: u.name for u in campaign.units},
                 "provinces": [u.code for u in campaign.provinces],
                 "aliases": filetypes.ALIASES, "extensions": EXTENSIONS}  # fmt: skip
        return html(f"app/{template}", campaign=campaign, page=page, title=title,
                    facts=json.dumps(facts, ensure_ascii=False).replace("<", "\\u003c"), **context)  # fmt: skip

    def upload_rules(purpose: str, limit: int) -> str:
        allowed = filetypes.ALLOWED[purpose]
        return json.dumps({"types": allowed, "limit": limit,
                           "labels": [FILE_LABELS[t] for t in allowed]}, ensure_ascii=False)  # fmt: skip

    @pages.get("/portal/unit/summary")
    async def summary() -> HTMLResponse:
        now = clock.now()
        return render(
            "summary.html", "summary", "总结报告",
            deadline=chinese_day(campaign.summary_deadline.astimezone(campaign.tz)),
            today=chinese_day(now.astimezone(campaign.tz)),
            on_time_now=campaign.summary_is_on_time(now),
            rules=upload_rules("summary", settings.max_summary_bytes),
            accepted=_accepted("summary"), limit=_mib(settings.max_summary_bytes),
        )  # fmt: skip

    @pages.get("/portal/unit/materials")
    async def materials() -> HTMLResponse:
        rules = {kind: json.loads(upload_rules(kind, settings.max_upload_bytes)) for kind in KINDS}
        return render(
            "materials.html", "materials", "活动材料", kinds=KINDS,
            rules=json.dumps(rules, ensure_ascii=False), limit=_mib(settings.max_upload_bytes),
            accepted={kind: _accepted(kind) for kind in KINDS},
        )  # fmt: skip

    @pages.get("/portal/unit/cases")
    async def cases() -> HTMLResponse:
        today = domain.office_today(campaign, clock.now())
        return render("cases.html", "cases", "典型案例", industries=campaign.industries,
                      today=today, earliest=campaign.exposure.start)  # fmt: skip

    @pages.get("/portal/office/accounts")
    async def accounts() -> HTMLResponse:
        return render("accounts.html", "accounts", "账号管理", roles=ROLES, statuses=STATUSES,
                      units=campaign.units)  # fmt: skip

    return pages


def _accepted(purpose: str) -> str:
    """The file input's `accept`: the types and their names' endings."""
    allowed = filetypes.ALLOWED[purpose]
    endings = [f".{ext}" for ext, kind in EXTENSIONS.items() if kind in allowed]
    return ",".join([*allowed, *endings])


def _mib(limit: int) -> str:
    return f"{limit / 1024 / 1024:.1f} MiB"
