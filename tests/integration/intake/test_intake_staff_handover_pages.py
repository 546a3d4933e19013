"""A staff member signed in on the reports dashboard follows its link to intake's account
administration, another origin, and is signed in there too: the token travels in the address's
fragment only (never a path, a query or a Referer), is gone from the address bar once read, and
is taken for an office role only. Debian's Chromium, at 1280 px and 360 px."""

from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from playwright.async_api import expect

from smonth_reports import dashboard
from smonth_shared.campaign import load_campaign
from tests.integration.intake.browser_support import DESK, PHONE, no_sideways_scroll, phone, serving
from tests.integration.intake.test_intake_account_pages import (
    chromium,  # noqa: F401 - the module's autouse fixture: Debian's chromium is there
)
from tests.integration.intake.test_intake_unit_pages import shot

pytestmark = pytest.mark.integration


def dashboard_linking_to(intake_address: str) -> FastAPI:
    """Reports' dashboard page as reports serves it, INTAKE_URL naming the intake under test."""
    app = FastAPI()
    app.include_router(dashboard.router(load_campaign("2021"), intake_address))
    return app


@pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["1280", "360"])
async def test_staff_signed_in_on_the_dashboard_reach_account_administration_without_signing_in_again(
    intake: Any, screenshots: Path, viewport: Any
) -> None:
    token = intake.token("staff")
    async with serving(intake.app) as intake_address, serving(
        dashboard_linking_to(intake_address)
    ) as dashboard_address, phone(dashboard_address, viewport) as (page, _):  # fmt: skip
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url))
        referers: list[str] = []
        page.on("request", lambda request: referers.extend(
            value for name, value in request.headers.items() if name == "referer"))  # fmt: skip
        await page.goto(f"{dashboard_address}/dashboard#token={token}")
        link = page.get_by_role("link", name="账号管理")
        await expect(link).to_have_attribute("href", f"{intake_address}/portal/office/accounts")

        await link.click()

        await expect(page.locator("#who-unit")).to_have_text("办公室工作人员")
        await expect(page.locator("#list-state")).to_contain_text("账号")
        assert page.url == f"{intake_address}/portal/office/accounts"
        assert await page.evaluate("location.hash") == ""
        assert not [url for url in asked if token in url.split("#")[0]], (
            "the token left the fragment"
        )
        assert not [value for value in referers if token in value]
        await no_sideways_scroll(page)
        await shot(page, screenshots, f"office-accounts-handed-over-{viewport['width']}.png")


async def test_a_handed_over_token_of_a_unit_or_a_bad_one_signs_nobody_in(intake: Any) -> None:
    async with serving(intake.app) as address, phone(address) as (page, _):
        for token, path in ((intake.token("unit", "44"), "/portal/unit/summary"),
                            (intake.token("staff", expired=True), "/portal/office/accounts"),
                            ("not-a-token", "/portal/office/accounts")):  # fmt: skip
            await page.goto("about:blank")  # each a page of its own, not a fragment's change
            await page.goto(f"{address}{path}#access_token={token}")

            await expect(page.get_by_role("heading", name="请先登录")).to_be_visible()
            assert page.url == f"{address}{path}"
            assert await page.evaluate("sessionStorage.length") == 0
