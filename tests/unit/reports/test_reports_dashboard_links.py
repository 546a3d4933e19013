"""The dashboard links the office's account administration, on intake's origin as the settings
name it."""

import httpx
from fastapi import FastAPI

from smonth_reports import dashboard
from smonth_shared.campaign import load_campaign


async def dashboard_page(intake_url: str) -> str:
    app = FastAPI()
    app.include_router(dashboard.router(load_campaign("2021"), intake_url))
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://reports") as client:
        return (await client.get("/dashboard")).text


async def test_the_dashboard_links_the_account_pages_at_the_intake_url_of_the_settings() -> None:
    page = await dashboard_page("https://intake.example.org/")

    assert 'href="https://intake.example.org/portal/office/accounts"' in page
    assert "{intake_url}" not in page


async def test_the_intake_url_is_escaped_into_the_page() -> None:
    page = await dashboard_page('https://x.example.org/"><b>')

    assert '"><b>' not in page and "&quot;&gt;&lt;b&gt;" in page
