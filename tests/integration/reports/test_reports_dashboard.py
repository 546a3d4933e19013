"""/dashboard in headless Chromium (Debian's package): its figures read from the page equal the
JSON's, it refreshes without a reload, and a screenshot shows it."""

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.async_api import Page, expect

from safety_month.browser import CHROMIUM, MISSING, chinese_chromium
from smonth_reports.app import build
from smonth_shared.auth import issue_token

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def serving(reports: Any) -> AsyncIterator[str]:
    """The service on a port of 127.0.0.1 (a browser needs a real socket); yields its address."""
    app = build(reports.service_settings())
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_config=None,
                                           access_log=False, lifespan="on"))  # fmt: skip
    task = asyncio.create_task(server.serve())
    await reports.eventually(lambda: _started(server))
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    """Where SMONTH_SCREENSHOTS says (CI can keep it), else with the test's own files."""
    folder = Path(os.environ.get("SMONTH_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(autouse=True)
def chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(MISSING)


@contextlib.asynccontextmanager
async def browser_page() -> AsyncIterator[Page]:
    async with chinese_chromium() as browser:
        yield await browser.new_page(viewport={"width": 1366, "height": 768})


async def test_the_dashboard_shows_the_figures_of_the_json_and_refreshes_by_itself(
    reports: Any, screenshots: Path
) -> None:
    await reports.record(*reports.a_campaign_in_brief())
    async with serving(reports) as address, browser_page() as page:
        token = issue_token(reports.secret, role="staff")
        await page.goto(f"{address}/dashboard?refresh=2#token={token}")
        await page.wait_for_selector("[data-testid=total-study_participants]")
        assert "token" not in page.url  # the fragment is dropped once the token is kept
        async with httpx.AsyncClient(base_url=address) as client:
            summary = (await client.get("/v1/national-summary", headers=reports.auth())).json()

        for code, text in summary["totals_text"].items():
            tile = page.get_by_test_id(f"total-{code}")
            assert await tile.inner_text() == text
            assert await tile.get_attribute("data-value") == str(summary["totals"][code])
        assert await page.get_by_test_id("tips-received").inner_text() == "3"
        assert await page.get_by_test_id("tips-industry-mining").text_content() == "2"
        for province, months in summary["exposure"]["matrix"].items():
            for month, cell in months.items():
                shown = page.get_by_test_id(f"exposure-{province}-{month}")
                assert await shown.get_attribute("data-status") == cell["status"]
        for month, met in summary["exposure"]["provinces_met"].items():
            assert await page.get_by_test_id(f"provinces-met-{month}").inner_text() == str(met)
        units = summary["units"]["by_kind"]["province"]
        shown = await page.get_by_test_id("units-province-reported").text_content()
        assert shown == f"{units['reported']}/{units['expected']}"
        assert await page.get_by_test_id("tips-by-day").get_attribute("data-days") == "1"
        faces = await page.evaluate(
            "document.fonts.ready.then(fonts => [...fonts].map(f => [f.family, f.status]))"
        )
        assert ["Smonth Sans SC", "loaded"] in faces  # the served typeface, not the system's
        shot = await page.screenshot(path=str(screenshots / "dashboard.png"), full_page=True)
        assert len(shot) > 50_000

        await page.evaluate("window.notReloaded = true")
        await reports.record(reports.progress("E002", date(2021, 7, 2), study_participants=660_000))
        await expect(page.get_by_test_id("total-study_participants")).to_have_text(
            "2000万人次", timeout=30_000
        )
        assert await page.evaluate("window.notReloaded === true")


async def test_the_dashboard_asks_for_a_token_and_refuses_a_wrong_one(reports: Any) -> None:
    async with serving(reports) as address, browser_page() as page:
        await page.goto(f"{address}/dashboard")
        await page.wait_for_selector("#login:not([hidden])")
        await page.fill("#token", "not-a-token")
        await page.click("#login-form button")
        await expect(page.locator("#login-error")).not_to_have_text("")
        assert await page.is_hidden("#board")
        await page.fill("#token", issue_token(reports.secret, role="staff"))
        await page.click("#login-form button")
        await page.wait_for_selector("#board:not([hidden])")
        unit = issue_token(reports.secret, role="unit", unit="44")
        await page.evaluate(f"sessionStorage.setItem('smonth.reports.token', '{unit}')")
        await page.reload()
        await page.wait_for_selector("#login:not([hidden])")
        assert "无权" in await page.inner_text("#login-error")
