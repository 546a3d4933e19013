"""/dashboard: the staff's live page, served as static files that hold no data.

The page asks for the staff token once, keeps it in the tab's sessionStorage and sends it as a
Bearer header with each fetch of the summary's JSON, so the page and its assets need no
authentication, no cookie can be ridden by another site, and a token never appears in a URL the
server sees. Nothing comes from outside: the charts are drawn by the page's own script, and the
Chinese typeface is served here, cut to the characters the page can show.
"""

import asyncio
from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from smonth_reports import chinese, communique, fonts, tables
from smonth_shared.campaign import Campaign

STATIC = files("smonth_reports") / "static"
ASSETS = {
    "app.js": "text/javascript; charset=utf-8",
    "app.css": "text/css; charset=utf-8",
}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; frame-ancestors 'none';"
    " base-uri 'none'; form-action 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


def router(campaign: Campaign, intake_url: str) -> APIRouter:
    """`intake_url`: where the office's account administration is, on intake's own origin (so
    that its sign-in and tokens stay there)."""
    page = APIRouter(include_in_schema=False)
    html = (STATIC / "dashboard.html").read_text(encoding="utf-8")
    html = html.replace("{intake_url}", escape(intake_url.rstrip("/"), quote=True))

    @page.get("/dashboard")
    async def dashboard() -> Response:
        return Response(html, media_type="text/html; charset=utf-8", headers=HEADERS)

    @page.get("/dashboard/font.ttf")
    async def font() -> Response:
        content = await asyncio.to_thread(fonts.web_font, _characters(campaign))
        return Response(content, media_type="font/ttf", headers={**HEADERS,
                        "Cache-Control": "public, max-age=86400"})  # fmt: skip

    @page.get("/dashboard/{asset}")
    async def asset(asset: str) -> Response:
        if asset not in ASSETS:
            return Response(status_code=404)
        return Response((STATIC / asset).read_bytes(), media_type=ASSETS[asset], headers=HEADERS)

    return page


def _characters(campaign: Campaign) -> str:
    """Every character the page can show: the campaign's names and labels, the page's own
    words, and the wording of the communique and of the figures."""
    sources = [Path(module.__file__ or "").read_text(encoding="utf-8")
               for module in (chinese, communique, tables)]  # fmt: skip
    sources += [
        (STATIC / name).read_text(encoding="utf-8") for name in ("dashboard.html", "app.js")
    ]
    return "".join(sorted(set(campaign.model_dump_json() + "".join(sources))))
