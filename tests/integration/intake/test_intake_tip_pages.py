"""The public 12350 pages in headless Chromium (Debian's package) at a phone's 360 px: a tip sent
from the page is stored and announced, its receipt is shown once and finds it on the look-up
page, refusals are shown in Chinese next to their field, and nothing comes from another origin."""

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from playwright.async_api import Dialog, Page, Request, expect

from safety_month.browser import CHROMIUM, MISSING, chinese_chromium
from smonth_shared.events import TIP

pytestmark = pytest.mark.integration

PHONE = {"width": 360, "height": 740}
DESCRIPTION = "矿井下通风设施损坏多日未修复，仍在组织工人下井生产"


@pytest.fixture(autouse=True)
def chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(MISSING)


class Browser:
    """One phone-sized page of headless Chromium, with every request it made."""

    def __init__(self, page: Page) -> None:
        self.page = page
        self.requests: list[str] = []
        self.dialogs: list[str] = []
        page.on("request", self._requested)
        page.on("dialog", self._dialog)

    def _requested(self, request: Request) -> None:
        self.requests.append(request.url)

    async def _dialog(self, dialog: Dialog) -> None:
        self.dialogs.append(dialog.type)
        await dialog.dismiss()  # stays on the page, as a tipster who has not saved the code would

    async def fits_the_width(self) -> bool:
        """No horizontal scroll: nothing is wider than the window."""
        return await self.page.evaluate(
            "document.documentElement.scrollWidth <= window.innerWidth"
            " && document.body.scrollWidth <= window.innerWidth"
        )

    async def shot(self, folder: Path, name: str) -> None:
        await self.page.evaluate("document.fonts.ready")
        await self.page.screenshot(path=str(folder / name), full_page=True)


@contextlib.asynccontextmanager
async def serving(intake: Any, until: Callable[..., Awaitable[Any]]) -> AsyncIterator[str]:
    """The running intake on a port of 127.0.0.1 (a browser needs a real socket)."""
    config = uvicorn.Config(intake.app, host="127.0.0.1", port=0, log_config=None,
                            access_log=True, lifespan="off")  # fmt: skip
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    await until(lambda: _started(server))
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server) -> bool:
    return server.started


@contextlib.asynccontextmanager
async def phone(address: str) -> AsyncIterator[Browser]:
    async with chinese_chromium() as browser:
        context = await browser.new_context(viewport=PHONE, locale="zh-CN")
        await context.grant_permissions(["clipboard-read", "clipboard-write"], origin=address)
        yield Browser(await context.new_page())


async def fill_in_a_tip(page: Page, **fields: str) -> None:
    values = {"province": "44", "industry": "mining", "category": "major_hazard",
              "description": DESCRIPTION, **fields}  # fmt: skip
    for name in ("province", "industry"):
        await page.select_option(f"#{name}", values.pop(name))
    await page.check(f"input[name=category][value={values.pop('category')}]")
    for name, value in values.items():
        await page.fill(f"#{name}", value)


async def test_a_tip_sent_from_a_phone_is_stored_announced_and_found_again_with_its_receipt(
    intake: Any, tap: Callable[[list[str]], Any], screenshots: Path,
    caplog: pytest.LogCaptureFixture, until: Callable[..., Awaitable[Any]],
) -> None:  # fmt: skip
    caplog.set_level(logging.INFO)
    topic = await tap([TIP.name]).open()
    async with serving(intake, until) as address, phone(address) as browser:
        page = browser.page
        await page.goto(f"{address}/tips")
        assert await browser.fits_the_width()
        await browser.shot(screenshots, "tip-form-360.png")
        await fill_in_a_tip(page, city="韶关市", enterprise="某煤矿有限公司")
        await page.get_by_test_id("send").click()

        code = await page.get_by_test_id("receipt-code").get_attribute("data-code") or ""
        shown = await page.get_by_test_id("receipt-code").inner_text()
        assert code and "".join(shown.split()).count(code.replace("-", "")) == 1
        assert await browser.fits_the_width()
        assert "无法找回" in await page.get_by_role("note").inner_text()
        await page.get_by_role("button", name="复制").click()
        await expect(page.locator("#copy-status")).to_contain_text("已复制")
        assert await page.evaluate("navigator.clipboard.readText()") == code
        await browser.shot(screenshots, "tip-receipt-360.png")

        await page.get_by_role("link", name="查询办理结果").first.click()
        await until(lambda: _said(browser, "beforeunload"))
        assert page.url == f"{address}/tips"  # not left: the code is not saved yet
        await page.get_by_label("我已把回执码保存在安全的地方").check()
        await page.get_by_test_id("saved").click()
        await page.get_by_test_id("after-saved").get_by_role("link", name="查询办理结果").click()
        await page.wait_for_url(f"{address}/tips/lookup")
        assert browser.dialogs == ["beforeunload"]

        await page.fill("#receipt_code", "AAAA-BBBB-CCCC-DDDD-EEEE")
        await page.get_by_test_id("look-up").click()
        await expect(page.get_by_test_id("error-receipt_code")).to_contain_text(
            "没有与此回执码对应的举报"
        )
        await page.fill("#receipt_code", code.lower())
        await page.get_by_test_id("look-up").click()
        await expect(page.get_by_test_id("status")).to_have_text("已受理，正在核查")
        assert await page.get_by_test_id("status").get_attribute("data-status") == "received"
        assert await browser.fits_the_width()
        await browser.shot(screenshots, "tip-lookup-360.png")
        faces = await page.evaluate(
            "document.fonts.ready.then(fonts => [...fonts].map(f => [f.family, f.status]))"
        )
        requests = list(browser.requests)

    (row,) = await intake.rows("SELECT tip_id, province, industry, city, enterprise FROM tips")
    assert dict(row) | {"tip_id": None} == {"tip_id": None, "province": "44", "industry": "mining",
                                            "city": "韶关市", "enterprise": "某煤矿有限公司"}  # fmt: skip
    await intake.published()
    (record,) = [r for r in await topic.read() if json.loads(r.value)["type"] == "tip.received"]
    event = json.loads(record.value)
    assert event["data"]["tip_id"] == str(row["tip_id"]) and event["data"]["named"] is False
    assert event["data"]["description"] == DESCRIPTION and record.key == b"44"

    assert ['"Smonth Sans SC"', "loaded"] in faces or ["Smonth Sans SC", "loaded"] in faces
    assert all(url.startswith(f"{address}/") for url in requests), requests
    normalised = code.replace("-", "")
    assert not [url for url in requests if code in url or normalised in url]
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "POST /tips" in logged  # the access log ran, and did not see the code
    assert code not in logged and normalised not in logged


async def _said(browser: Browser, dialog: str) -> bool:
    return dialog in browser.dialogs


async def test_refused_fields_are_named_in_chinese_next_to_them_and_keep_what_was_typed(
    intake: Any, screenshots: Path, until: Callable[..., Awaitable[Any]]
) -> None:
    async with serving(intake, until) as address, phone(address) as browser:
        page = browser.page
        await page.goto(f"{address}/tips")
        await page.select_option("#industry", "construction")
        await page.fill("#description", "脚手架")
        await page.fill("#contact_phone", "12345")
        await page.get_by_test_id("send").click()

        await expect(page.get_by_test_id("error-province")).to_contain_text("必填项未填写")
        await expect(page.get_by_test_id("error-category")).to_contain_text("必填项未填写")
        await expect(page.get_by_test_id("error-description")).to_contain_text(
            "内容过短：至少 10 个字"
        )
        await expect(page.get_by_test_id("error-contact_phone")).to_contain_text(
            "应为手机号码或带区号的固定电话"
        )
        assert await page.get_attribute("#description", "aria-invalid") == "true"
        described = await page.get_attribute("#contact_phone", "aria-describedby") or ""
        assert "contact_phone-error" in described.split()
        assert await page.evaluate("document.activeElement.id") == "error-summary"
        assert await page.input_value("#description") == "脚手架"
        assert await page.input_value("#industry") == "construction"
        assert await browser.fits_the_width()
        await browser.shot(screenshots, "tip-errors-360.png")

        await fill_in_a_tip(page, industry="construction", contact_phone="13800138000",
                            occurred_on="2021-07-01")  # fmt: skip
        await page.get_by_test_id("send").click()
        await expect(page.get_by_test_id("error-occurred_on")).to_contain_text(
            "日期 2021-07-01 晚于今天（2021-06-20）"
        )
        await page.fill("#occurred_on", "2021-06-18")
        await page.get_by_test_id("send").click()
        await expect(page.get_by_test_id("receipt-code")).to_be_visible()

    (row,) = await intake.rows("SELECT occurred_on, contact_encrypted FROM tips")
    assert str(row["occurred_on"]) == "2021-06-18" and row["contact_encrypted"] is not None


async def test_too_many_tips_are_answered_in_chinese_with_when_to_try_again(
    start_intake: Any, screenshots: Path, until: Callable[..., Awaitable[Any]]
) -> None:
    async with start_intake(tip_rate_per_minute=1) as intake, serving(intake, until) as address:
        async with phone(address) as browser:
            page = browser.page
            for _ in range(2):
                await page.goto(f"{address}/tips")
                await fill_in_a_tip(page)
                async with page.expect_navigation() as sent:
                    await page.get_by_test_id("send").click()
                if await page.get_by_test_id("saved-form").is_visible():
                    await page.check("#saved-check")
                    await page.get_by_test_id("saved").click()
            answer = await sent.value
            assert answer is not None
            status, retry_after = answer.status, await answer.header_value("retry-after")
            banner = await page.get_by_test_id("banner").inner_text()
            assert await page.input_value("#description") == DESCRIPTION
            await browser.shot(screenshots, "tip-rate-limited-360.png")
        rows = await intake.rows("SELECT count(*) AS tips FROM tips")

    assert status == 429 and retry_after is not None and 1 <= int(retry_after) <= 60
    assert f"请 {retry_after} 秒后再试" in banner
    assert "每分钟最多提交举报 1 次" in banner
    assert rows[0]["tips"] == 1


async def test_a_form_posted_without_the_pages_token_is_refused(intake: Any) -> None:
    form = {"province": "44", "industry": "mining", "category": "major_hazard",
            "description": DESCRIPTION}  # fmt: skip
    forged = await intake.client.post("/tips", data={**form, "csrf_token": "0" * 64})
    looked_up = await intake.client.post("/tips/lookup", data={"receipt_code": "A" * 20})

    assert forged.status_code == 403 and "页面已过期" in forged.text
    assert looked_up.status_code == 403
    assert not await intake.rows("SELECT 1 FROM tips")
