"""What the demo's people saw: one province's liaison's task page and the public tip page,
photographed in Debian's Chromium at a phone's 360 px from the running system, once the year is
over. The liaison signs in on the sign-in page with the e-mail and password the demo gave them,
as a person would."""

from pathlib import Path

from playwright.async_api import ViewportSize, expect

from safety_month.browser import CHROMIUM, MISSING, chinese_chromium, photograph, sign_in

PHONE: ViewportSize = {"width": 360, "height": 740}
# A page of the demo's system answers in well under a second; a loaded 2-core machine may
# take several, and a missing screenshot must say why rather than hang the demo.
WAIT_MS = 30_000


class ScreenshotError(Exception):
    """A page could not be photographed (no browser, or it never showed what it should)."""


def browser_missing() -> str | None:
    return None if CHROMIUM.exists() else MISSING


async def take_screenshots(intake_url: str, liaison: tuple[str, str], out: Path) -> list[Path]:
    """The liaison's tasks (signed in as `liaison`, e-mail and password) and the tip form, as
    PNG files in `out` (a folder that exists)."""
    tasks, tip = out / "unit-tasks-360.png", out / "tip-360.png"
    async with chinese_chromium() as browser:
        page = await browser.new_page(viewport=PHONE, device_scale_factor=2, locale="zh-CN")
        page.set_default_timeout(WAIT_MS)
        await sign_in(page, intake_url, *liaison)
        await page.goto(f"{intake_url}/unit#tasks")
        await expect(page.locator("#tasks > li").first).to_be_visible()
        await expect(page.locator("#tasks-lead")).to_contain_text("今天是")
        await photograph(page, tasks)
        await page.goto(f"{intake_url}/tips")
        await expect(page.get_by_role("button", name="提交举报")).to_be_visible()
        await photograph(page, tip)
    return [tasks, tip]
