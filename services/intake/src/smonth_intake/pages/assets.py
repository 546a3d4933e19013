"""The pages' stylesheet, script and typeface, shipped in the package: no page loads anything
from another origin."""

import asyncio
from collections.abc import Callable
from functools import cache
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
    "session.js": "text/javascript; charset=utf-8",
    "unit.css": "text/css; charset=utf-8",
    "unit.js": "text/javascript; charset=utf-8",
}
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "public, max-age=3600"}


def router(campaign: Campaign) -> APIRouter:
    return shipped("/pages/static", ASSETS, cache(lambda: _page_characters(campaign)),
                   HEADERS, HEADERS)  # fmt: skip


def shipped(
    prefix: str, assets: dict[str, str], characters: Callable[[], str],
    headers: dict[str, str], font_headers: dict[str, str],
) -> APIRouter:  # fmt: skip
    """The routes of a set of pages' files under `prefix`: their stylesheets and scripts, and
    the typeface cut to `characters` (worked out at the first request for it, not at start-up)."""
    static = APIRouter(prefix=prefix, include_in_schema=False)

    @static.get("/fonts.css")
    async def font_faces() -> Response:
        faces = await asyncio.to_thread(font_face_rules, characters())
        return Response(faces, media_type="text/css; charset=utf-8", headers=headers)

    @static.get("/font-page.woff")
    async def page_font() -> Response:
        content = await asyncio.to_thread(fonts.page_font, characters())
        return Response(content, media_type="font/woff", headers=font_headers)

    @static.get("/font-text.woff")
    async def text_font() -> Response:
        content = await asyncio.to_thread(fonts.text_font)
        return Response(content, media_type="font/woff", headers=font_headers)

    @static.get("/{name}")
    async def asset(name: str) -> Response:
        if name not in assets:
            return Response(status_code=404)
        content = (PAGES / "static" / name).read_bytes()
        return Response(content, media_type=assets[name], headers=headers)

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
