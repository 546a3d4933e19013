"""Debian's Chromium, headless and in Chinese, as the pages' users see them: for the demo's
screenshots and for the page tests (Playwright's Python API driving the machine's own browser, no
downloaded build)."""

import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path

from playwright.async_api import Browser, Page, async_playwright, expect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--lang=zh-CN"]  # fmt: skip
# A date input shows the browser's own language, not the page's (lang="zh-CN" does not change
# it): Chromium in Chinese, as a liaison's is, with Debian's chromium-l10n for its zh-CN strings.
# LANGUAGE only: a LANG naming a locale the machine lacks leaves Chromium in the C locale, where
# a download's Chinese file name becomes "download".
CHINESE = {"LANGUAGE": "zh_CN:zh"}
MISSING = f"{CHROMIUM} is missing: apt-get install chromium chromium-l10n (scripts/install.sh does)"


@contextlib.asynccontextmanager
async def chinese_chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, env={**os.environ, **CHINESE}
        )
        try:
            yield browser
        finally:
            await browser.close()


async def sign_in(page: Page, address: str, email: str, password: str) -> None:
    """Signs in on intake's sign-in page as a person does, until it shows the account."""
    await page.goto(f"{address}/portal/sign-in")
    form = page.locator('[data-page="sign-in"]')
    await form.get_by_label("邮箱").fill(email)
    await form.get_by_label("密码").fill(password)
    await form.get_by_role("button", name="登录").click()
    await expect(page.locator('[data-field="email"]')).to_have_text(email)


async def photograph(page: Page, path: Path) -> None:
    """The whole page, once its typeface has loaded (before, Chinese may show as boxes)."""
    await page.evaluate("document.fonts.ready")
    await page.screenshot(path=str(path), full_page=True)
