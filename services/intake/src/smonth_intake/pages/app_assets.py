"""The script, stylesheet and typeface of the signed-in pages (submissions.py), under
/portal/app/: shipped in the package, nothing from another origin. The typeface is the tip pages'
(fonts.py), its first cut made of what these pages can show: their templates and script, and the
Chinese of every refusal the API they call can answer."""

import asyncio
from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from smonth_intake import accounts, domain, filetypes, forms, handlers, models
from smonth_intake.pages import assets, fonts, submissions
from smonth_shared import problems
from smonth_shared.campaign import Campaign

PAGES = files("smonth_intake") / "pages"
ASSETS = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
FONT_HEADERS = {**HEADERS, "Cache-Control": "public, max-age=86400"}


def router(campaign: Campaign) -> APIRouter:
    static = APIRouter(prefix="/portal/app", include_in_schema=False)

    @cache
    def characters() -> str:
        return _characters(campaign)

    @static.get("/fonts.css")
    async def font_faces() -> Response:
        faces = await asyncio.to_thread(assets.font_face_rules, characters())
        return Response(faces, media_type="text/css; charset=utf-8", headers=HEADERS)

    @static.get("/font-page.woff")
    async def page_font() -> Response:
        content = await asyncio.to_thread(fonts.page_font, characters())
        return Response(content, media_type="font/woff", headers=FONT_HEADERS)

    @static.get("/font-text.woff")
    async def text_font() -> Response:
        content = await asyncio.to_thread(fonts.text_font)
        return Response(content, media_type="font/woff", headers=FONT_HEADERS)

    @static.get("/{name}")
    async def asset(name: str) -> Response:
        if name not in ASSETS:
            return Response(status_code=404)
        content = (PAGES / "static" / name).read_bytes()
        return Response(content, media_type=ASSETS[name], headers=HEADERS)

    return static


def _characters(campaign: Campaign) -> str:
    templates = PAGES / "templates" / "app"
    sources = [(templates / t.name).read_text(encoding="utf-8") for t in templates.iterdir()]
    sources.append((PAGES / "static" / "app.js").read_text(encoding="utf-8"))
    sources += [Path(module.__file__ or "").read_text(encoding="utf-8") for module in
                (submissions, accounts, domain, filetypes, forms, handlers, models, problems)]  # fmt: skip
    return "".join(sorted(set(campaign.model_dump_json() + "".join(sources))))
