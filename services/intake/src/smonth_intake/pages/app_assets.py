"""The script, stylesheet and typeface of the signed-in pages (submissions.py), under
/portal/app/: shipped in the package, nothing from another origin. The typeface is the tip pages'
(fonts.py), its first cut made of what these pages can show: their templates and script, and the
Chinese of every refusal the API they call can answer."""

from functools import cache
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter

from smonth_intake import accounts, domain, filetypes, forms, handlers, models
from smonth_intake.pages import assets, submissions
from smonth_shared import problems
from smonth_shared.campaign import Campaign

PAGES = files("smonth_intake") / "pages"
ASSETS = {"app.css": "text/css; charset=utf-8", "app.js": "text/javascript; charset=utf-8"}
HEADERS = {"X-Content-Type-Options": "nosniff", "Cache-Control": "no-cache"}
FONT_HEADERS = {**HEADERS, "Cache-Control": "public, max-age=86400"}


def router(campaign: Campaign) -> APIRouter:
    return assets.shipped("/portal/app", ASSETS, cache(lambda: _characters(campaign)),
                          HEADERS, FONT_HEADERS)  # fmt: skip


def _characters(campaign: Campaign) -> str:
    templates = PAGES / "templates" / "app"
    sources = [(templates / t.name).read_text(encoding="utf-8") for t in templates.iterdir()]
    sources.append((PAGES / "templates" / "base.html").read_text(encoding="utf-8"))
    sources.append((PAGES / "static" / "app.js").read_text(encoding="utf-8"))
    sources += [Path(module.__file__ or "").read_text(encoding="utf-8") for module in
                (submissions, accounts, domain, filetypes, forms, handlers, models, problems)]  # fmt: skip
    return "".join(sorted(set(campaign.model_dump_json() + "".join(sources))))
