"""The unit's desk in headless Chromium (Debian's) at a phone's 360 px: a liaison activated from a
real mail signs in, sees the unit's tasks, sends attachment 1 with one bad figure (refused in
Chinese beside it), corrects it and finds it in the history; then the workbook is downloaded,
filled, saved by LibreOffice, refused by the cell, corrected and accepted."""

import asyncio
import io
import os
import re
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from playwright.async_api import Page, expect

from safety_month.browser import MISSING
from tests.integration.intake.browser_support import (
    CHROMIUM,
    link_in_mail,
    no_sideways_scroll,
    phone,
    serving,
)
from tests.integration.intake.test_intake_unit_desk import libreoffice_round_trip
from tests.integration.notify.notify_support import Mailbox

pytestmark = pytest.mark.integration
EMAIL = "liaison.44@example.gov.cn"
PASSWORD = "安全第一-Passw0rd"


@pytest.fixture
def screenshots(tmp_path: Path) -> Path:
    if not Path(CHROMIUM).exists():
        pytest.fail(MISSING)
    folder = Path(os.environ.get("SMONTH_SCREENSHOTS") or tmp_path)
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def signed_in_liaison(intake: Any, mailbox: Mailbox, page: Page, address: str) -> None:
    invited = await intake.client.post("/v1/accounts", headers=intake.auth("admin"), json={
        "email": EMAIL, "name": "李明", "role": "unit", "unit": "44"})  # fmt: skip
    assert invited.status_code == 201, invited.text
    link = await link_in_mail(mailbox, EMAIL)
    token = link.split("#token=")[1]
    activated = await intake.client.post("/v1/auth/activate",
                                         json={"token": token, "password": PASSWORD})  # fmt: skip
    assert activated.status_code == 200, activated.text
    await page.goto(f"{address}/portal/sign-in")
    sign_in = page.locator('[data-page="sign-in"]')
    await sign_in.get_by_label("邮箱").fill(EMAIL)
    await sign_in.get_by_label("密码").fill(PASSWORD)
    await sign_in.get_by_role("button", name="登录").click()
    await page.get_by_role("link", name="进入本单位工作台").click()
    await expect(page.locator("body[data-ready=true]")).to_be_attached()


async def test_a_liaison_sends_attachment_1_on_a_phone_after_one_refusal(
    start_intake: Any, mailbox: Mailbox, screenshots: Path
) -> None:
    async with start_intake(smtp_host=mailbox.host, smtp_port=mailbox.port) as intake, serving(
        intake.app
    ) as address, phone(address) as (page, elsewhere):  # fmt: skip
        await signed_in_liaison(intake, mailbox, page, address)
        tasks = page.locator("#tasks")
        await expect(tasks.locator('[data-task="summary"]')).to_contain_text(
            "截止日期：2021年7月5日"
        )
        await expect(tasks.locator('[data-task="progress"] .badge')).to_have_text("待报送")
        await expect(tasks.locator('[data-task="cases"]')).to_contain_text("6月曝光典型案例")
        await expect(page.locator("#unit-name")).to_have_text("广东省")
        await no_sideways_scroll(page)
        await page.screenshot(path=str(screenshots / "unit-tasks-360.png"), full_page=True)

        await tasks.get_by_role("link", name=re.compile("进展情况统计表")).click()
        form = page.locator("#progress-form")
        await form.get_by_label("统计截止日期").fill("2021-06-18")
        await form.get_by_label(re.compile(r"^1\. 学习活动场次")).fill("120")
        await form.get_by_label(re.compile(r"^2\. 学习活动参与人次")).fill("100")
        await form.get_by_label(re.compile(r"^3\. 专项整治宣传报道")).fill("8")
        await form.get_by_role("button", name="提交统计表").click()
        error = form.locator('.error[data-for="study_participants"]')
        await expect(error).to_contain_text("不能少于学习活动场次")
        await expect(form.get_by_label(re.compile(r"^2\. 学习活动参与人次"))).to_have_attribute(
            "aria-invalid", "true")  # fmt: skip
        await no_sideways_scroll(page)
        await page.locator("#field-study_participants").screenshot(
            path=str(screenshots / "unit-progress-refused-360.png"))  # fmt: skip
        await page.screenshot(path=str(screenshots / "unit-progress-form-360.png"), full_page=True)

        await form.get_by_label(re.compile(r"^2\. 学习活动参与人次")).fill("3600")
        await form.get_by_role("button", name="提交统计表").click()
        await expect(page.locator("#progress-message")).to_have_text(
            "已提交：截至2021年6月18日的统计数已接收。")  # fmt: skip
        await expect(error).to_be_empty()

        await page.get_by_role("link", name="报送记录", exact=True).click()
        entry = page.locator('#history [data-kind="progress"]')
        await expect(entry).to_contain_text("进展情况统计表：2021-06-18")
        await expect(entry).to_contain_text("已接收")
        await page.screenshot(path=str(screenshots / "unit-history-360.png"), full_page=True)

        await page.get_by_role("link", name="联络员", exact=True).click()
        await expect(page.locator("#liaison-name")).to_have_value("李明")
        await expect(page.locator("#liaison-email")).to_have_value(EMAIL)
        await no_sideways_scroll(page)
        await page.screenshot(path=str(screenshots / "unit-liaison-360.png"), full_page=True)
        assert elsewhere == []


async def test_a_workbook_saved_by_libreoffice_is_refused_by_the_cell_then_taken(
    start_intake: Any, mailbox: Mailbox, screenshots: Path, tmp_path: Path
) -> None:
    async with start_intake(smtp_host=mailbox.host, smtp_port=mailbox.port) as intake, serving(
        intake.app
    ) as address, phone(address, accept_downloads=True) as (page, elsewhere):  # fmt: skip
        await intake.client.post("/v1/progress", headers=intake.auth("unit", "44"), json={
            "unit": "44", "as_of": "2021-06-10", "indicators": {"study_sessions": 1200}})  # fmt: skip
        await signed_in_liaison(intake, mailbox, page, address)
        await page.get_by_role("link", name="统计表", exact=True).click()
        await expect(page.locator("#ind-study_sessions")).to_have_value("1200")

        async with page.expect_download() as waiting:
            await page.get_by_role("button", name="下载 Excel 模板").click()
        download = await waiting.value
        template = tmp_path / download.suggested_filename
        await download.save_as(template)
        assert template.name == "进展情况统计表-44.xlsx"

        async def upload(name: str, **cells: Any) -> None:
            book = load_workbook(io.BytesIO(template.read_bytes()))
            for ref, value in cells.items():
                book.worksheets[0][ref] = value
            book.save(tmp_path / name)
            saved = await asyncio.to_thread(libreoffice_round_trip, tmp_path / name,
                                            tmp_path / name.removesuffix(".xlsx"))  # fmt: skip
            await page.locator("#workbook-file").set_input_files(saved)
            await page.get_by_role("button", name="上传工作簿").click()

        await upload("bad.xlsx", B3="2021-06-20", C7=1100, C8=5000)
        errors = page.locator("#workbook-errors")
        await expect(errors).to_be_visible()
        await expect(errors.locator("li")).to_have_count(1)
        await expect(errors.locator("li")).to_contain_text("C7：")
        await expect(errors.locator("li")).to_contain_text("低于 2021-06-10 报送的 1200")
        await no_sideways_scroll(page)
        await page.locator("#workbook").screenshot(
            path=str(screenshots / "unit-workbook-refused-360.png"))  # fmt: skip

        await upload("good.xlsx", B3="2021-06-20", C7=1300, C8=5000)
        await expect(page.locator("#workbook-message")).to_have_text("工作簿已接收，统计数已保存。")
        await expect(errors).to_be_hidden()
        await expect(page.locator("#ind-study_sessions")).to_have_value("1300")
        rows = await intake.rows("SELECT as_of FROM progress_snapshots ORDER BY as_of")
        assert [str(r["as_of"]) for r in rows] == ["2021-06-10", "2021-06-20"]
        assert elsewhere == []
