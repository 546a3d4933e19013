"""The pages' stylesheet, script and typeface, shipped in the package: no page loads anything
from another origin."""

import asyncio
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from smonth_intake import desk, domain, handlers, models, tasks, workbook
from smonth_intake.pages import fonts, tips, unit
from smonth_shared import problems
from smonth_shared.campaign import Campaign

PAGES = files("smonth_intake") / "pages"
ASSETS = {
    "portal.css": "text/css; charset=utf-8",
    "portal.js": "text/javascript; charset=utf-8",
    "unit.css": "text/css; charset=utf-8",
    "unit.js": "text/javascript; charset=utf-8",
}
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=3600"}


def router(campaign: Campaign) -> APIRouter:
    static = APIRouter(prefix="/pages/static")
    characters = _page_characters(campaign)
    faces = font_face_rules(characters)

    @static.get("/fonts.css")
    async def font_faces() -> Response:
        return Response(faces, media_type="text/css; charset=utf-8", headers=HEADERS)

    @static.get("/font-page.woff")
    async def page_font() -> Response:
        content = await asyncio.to_thread(fonts.page_font, characters)
        return Response(content, media_type="font/woff", headers=HEADERS)

    @static.get("/font-text.woff")
    async def text_font() -> Response:
        content = await asyncio.to_thread(fonts.text_font)
        return Response(content, media_type="font/woff", headers=HEADERS)

    @static.get("/{name}")
    async def asset(name: str) -> Response:
        if name not in ASSETS:
            return Response(status_code=404)
        content = (PAGES / "static" / name).read_bytes()
        return Response(content, media_type=ASSETS[name], headers=HEADERS)

    return static


def font_face_rules(characters: str) -> str:
    """One family of two faces with the same descriptors, so that the browser picks by
    character: the second only for those of its range, what a visitor types beyond the pages'
    own words (at the regular weight whatever the weight asked)."""
    rest = fonts.unicode_range(tuple(c for c in fonts.common_characters() if c not in characters))
    return "".join(
        f'@font-face {{ font-family: "Smonth Sans SC"; font-weight: 100 900; font-display: swap;'
        f' src: url("{file}") format("woff");{limit} }}\n'
        for file, limit in (("font-text.woff", f" unicode-range: {rest};"), ("font-page.woff", ""))
    )


def _page_characters(campaign: Campaign) -> str:
    """Every character a page can show: its templates and scripts, its labels, the campaign's
    names, and the Chinese of every refusal a tip, a look-up or a unit's submission can meet."""
    sources = [(PAGES / "templates" / t.name).read_text(encoding="utf-8")
               for t in (PAGES / "templates").iterdir() if t.name.endswith(".html")]  # fmt: skip
    sources += [(PAGES / "static" / name).read_text(encoding="utf-8")
                for name in ASSETS if name.endswith(".js")]  # fmt: skip
    sources += [Path(module.__file__ or "").read_text(encoding="utf-8")
                for module in (tips, unit, domain, handlers, models, problems, desk, tasks,
                               workbook)]  # fmt: skip
    return "".join(sorted(set(campaign.model_dump_json() + "".join(sources))))
