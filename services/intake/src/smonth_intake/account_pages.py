"""/portal/…: the pages a person's account needs — take up the invitation, sign in, ask for and
set a new password — served as static files that hold no data.

The one-time link arrives in the URL's fragment (`#token=…`), which a browser never sends to a
server: the page reads it, drops it from the address bar and posts it to intake's own API
(`/v1/auth/…`), the same routes an integrator calls. The tokens a sign-in answers live only in the
tab's sessionStorage. Nothing comes from outside: the Chinese typeface is served here, cut to the
characters the pages can show.
"""

from functools import cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import Response

from smonth_intake import accounts
from smonth_intake.pages import assets
from smonth_shared import problems

STATIC = assets.PAGES / "static"
PAGES = ("activate", "reset-password", "sign-in", "forgot-password")
ASSETS = {
    "account.js": "text/javascript; charset=utf-8",
    "account.css": "text/css; charset=utf-8",
}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'; base-uri 'none';"
    " form-action 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
FONT_HEADERS = {**HEADERS, "Cache-Control": "public, max-age=86400"}


def router() -> APIRouter:
    pages = APIRouter(prefix="/portal", include_in_schema=False)
    # The script, the stylesheet and the tip pages' two-face typeface: the pages' own words in
    # a small cut, and what a person's name needs beyond them only when it is on the page.
    pages.include_router(assets.shipped("/account", ASSETS, _characters, HEADERS, FONT_HEADERS))

    @pages.get("/{page}")
    async def page(page: str) -> Response:
        if page not in PAGES:
            return Response(status_code=404)
        return Response((STATIC / "account.html").read_bytes(),
                        media_type="text/html; charset=utf-8", headers=HEADERS)  # fmt: skip

    return pages


@cache
def _characters() -> str:
    """Every character the pages can show of their own: their words and the wording of the
    API's refusals (accounts' and the shared problem documents')."""
    sources = [
        (STATIC / name).read_text(encoding="utf-8") for name in ("account.html", "account.js")
    ]
    sources += [Path(module.__file__ or "").read_text(encoding="utf-8")
                for module in (accounts, problems)]  # fmt: skip
    return "".join(sorted(set("".join(sources))))
