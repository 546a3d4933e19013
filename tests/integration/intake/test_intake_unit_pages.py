"""The signed-in pages in headless Chromium (Debian's package) at a phone's 360 px: a liaison
sends the summary report, a material (its upload's progress shown, a file of the wrong type or
size refused before anything is sent, the server's own refusal shown in Chinese) and a typical
case (a repeat refused, naming the earlier case); the office's staff issue an account, mail its
invitation again and withdraw it. Real broker, database and SMTP server; nothing from elsewhere."""

import asyncio
import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Page, expect

from safety_month import browser
from tests.integration.intake.browser_support import (
    DESK,
    PHONE,
    no_sideways_scroll,
    phone,
    serving,
)
from tests.integration.intake.test_intake_account_pages import (
    chromium,  # noqa: F401 - the module's autouse fixture: Debian's chromium is there
)
from tests.integration.notify.notify_support import Mailbox

pytestmark = pytest.mark.integration
Intake = Any  # tests/integration/intake/conftest.py's

PASSWORD = "安全第一-Passw0rd"
LIMIT = 1024 * 1024  # the materials' file limit these tests run with
PNG = b"\x89PNG\r\n\x1a\n"
CASE = {"title": "某化工企业重大隐患未整改被曝光", "enterprise": "某化工有限公司",
        "summary": "该企业储罐区可燃气体报警装置长期失效，经媒体曝光后责令停产整改。",
        "media_outlet": "南方日报", "published_on": "2021-06-18",
        "url": "https://news.example.cn/2021/06/18/case.html"}  # fmt: skip


async def an_active_account(
    intake: Intake, mailbox: Mailbox, email: str, name: str, role: str, unit: str | None = None
) -> None:
    """Issued by an admin, taken up with the link of its mail (over the API: the account pages
    have their own test)."""
    issued = await intake.client.post("/v1/accounts", headers=intake.auth("admin"),
                                      json={"email": email, "name": name, "role": role, "unit": unit})  # fmt: skip
    assert issued.status_code == 201, issued.text
    link = await _link(mailbox, email)
    activated = await intake.client.post("/v1/auth/activate",
                                         json={"token": link, "password": PASSWORD})  # fmt: skip
    assert activated.status_code == 200, activated.text


async def _link(mailbox: Mailbox, email: str, nth: int = 0) -> str:
    mail = await mailbox.mail_to(email, nth)
    body = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    [token] = re.findall(r"/portal/activate#token=([A-Za-z0-9_-]+)", body)
    return token


async def sign_in(page: Page, address: str, email: str) -> None:
    await browser.sign_in(page, address, email, PASSWORD)


async def shot(page: Page, folder: Path, name: str) -> None:
    await browser.photograph(page, folder / name)


async def fill_in_a_case(page: Page, title: str) -> None:
    await page.get_by_label("案例标题").fill(title)
    await page.get_by_label("行业领域").select_option("hazardous_chemicals")
    for label, name in (("涉及企业或单位", "enterprise"), ("案例概要", "summary"),
                        ("曝光媒体", "media_outlet"), ("曝光日期", "published_on"),
                        ("报道链接", "url")):  # fmt: skip
        await page.get_by_label(label).fill(CASE[name])


def png(size: int, name: str = "现场照片.png") -> dict[str, Any]:
    return {"name": name, "mimeType": "image/png", "buffer": PNG + b"\0" * (size - len(PNG))}


async def test_a_liaison_sends_the_summary_a_material_and_a_case_from_a_phone(
    start_intake: Any, mailbox: Mailbox, screenshots: Path
) -> None:
    async with start_intake(smtp_host=mailbox.host, smtp_port=mailbox.port,
                            max_upload_bytes=LIMIT) as intake, serving(intake.app) as address:  # fmt: skip
        await an_active_account(intake, mailbox, "liaison.44@example.gov.cn", "李明", "unit", "44")
        async with phone(address) as (page, elsewhere):
            posts: list[str] = []
            page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
            await page.goto(f"{address}/portal/unit/summary")
            await expect(page.get_by_role("heading", name="请先登录")).to_be_visible()
            await sign_in(page, address, "liaison.44@example.gov.cn")

            # The summary report: the deadline, and whether today is on time, before and after.
            await page.goto(f"{address}/portal/unit/summary")
            await expect(page.locator("#who-unit")).to_have_text("广东省")
            await expect(page.get_by_test_id("deadline")).to_have_text("2021年7月5日")
            await expect(page.get_by_test_id("on-time-now")).to_contain_text("按时报送")
            await page.get_by_role("button", name="提交总结报告").click()
            await expect(page.locator('[data-for="title"]')).to_have_text("此项为必填项。")
            await page.get_by_label("标题").fill("广东省2021年“安全生产月”活动总结")
            await page.get_by_label("报告正文").fill(
                "全省各地各部门认真落实活动方案，组织开展了形式多样的宣传活动。"
            )
            await page.get_by_label("附件").set_input_files(
                {"name": "总结.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4\n%%EOF\n"}
            )
            await no_sideways_scroll(page)
            await shot(page, screenshots, "unit-summary-360.png")
            await page.get_by_role("button", name="提交总结报告").click()
            await expect(page.locator('[data-result="on_time"]')).to_have_text("按时报送")
            [summary] = await intake.events("summary.submitted")
            assert summary["data"]["on_time"] and summary["data"]["file"]["filename"] == "总结.pdf"

            # A material: refused in the browser before anything is sent, then by the server.
            await page.goto(f"{address}/portal/unit/materials")
            await page.get_by_label("图片").check()
            await expect(page.locator("[data-file-hint]")).to_contain_text("JPG、PNG、GIF、WEBP")
            await page.get_by_label("标题").fill("6·16安全宣传咨询日现场")
            file = page.locator("#file")
            await file.set_input_files(png(LIMIT + 1))
            await expect(page.locator('[data-for="file"]')).to_contain_text("文件过大")
            await page.get_by_role("button", name="上传材料").click()
            await expect(page.locator('[data-for="file"]')).to_contain_text("不能超过 1.0 MiB")
            await file.set_input_files({"name": "说明.txt", "mimeType": "text/plain",
                                        "buffer": "不是图片".encode()})  # fmt: skip
            await page.get_by_role("button", name="上传材料").click()
            await expect(page.locator('[data-for="file"]')).to_contain_text("不接受此类文件")
            assert await file.get_attribute("aria-invalid") == "true"
            await no_sideways_scroll(page)
            await shot(page, screenshots, "unit-material-refused-360.png")
            assert not [url for url in posts if url.endswith("/v1/materials")]

            await file.set_input_files({"name": "伪装.png", "mimeType": "image/png",
                                        "buffer": b"GIF89a not a png at all"})  # fmt: skip
            await page.get_by_role("button", name="上传材料").click()
            await expect(page.locator('[data-for="file"]')).to_contain_text(
                "文件声明的类型（image/png）与其实际内容不符"
            )

            # A real upload, slowed down so that its progress can be seen on the way.
            cdp = await page.context.new_cdp_session(page)
            await cdp.send("Network.enable")
            await cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": 0, "downloadThroughput": -1,
                "uploadThroughput": 256 * 1024,
            })  # fmt: skip
            await file.set_input_files(png(LIMIT - 64 * 1024))
            await page.get_by_role("button", name="上传材料").click()
            bar = page.locator("progress")
            await page.wait_for_function(
                "() => { const v = document.querySelector('progress').value; return v >= 10 && v < 100; }"
            )
            await expect(page.locator("[data-progress-text]")).to_contain_text("已上传")
            await shot(page, screenshots, "unit-material-uploading-360.png")
            await expect(page.get_by_role("heading", name="材料已收到")).to_be_visible(
                timeout=60_000
            )
            await cdp.send("Network.emulateNetworkConditions", {
                "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1,
            })  # fmt: skip
            assert int(await bar.get_attribute("data-seen") or 0) > 1
            [material] = await intake.events("material.submitted")
            assert material["data"]["kind"] == "picture"
            assert material["data"]["file"]["size"] == LIMIT - 64 * 1024

            # A typical case, and the same link again: refused, naming the earlier case.
            await page.goto(f"{address}/portal/unit/cases")
            await fill_in_a_case(page, CASE["title"])
            await page.get_by_role("button", name="报送典型案例").click()
            await expect(page.get_by_role("heading", name="典型案例已收到")).to_be_visible()
            await page.get_by_role("button", name="继续报送").click()
            await fill_in_a_case(page, "换了标题的同一案例")
            await page.get_by_role("button", name="报送典型案例").click()
            banner = page.locator("#banner")
            await expect(banner).to_contain_text("该省已报送过此链接的典型案例")
            await expect(banner).to_contain_text(f"“{CASE['title']}”（南方日报，2021年6月18日")
            await no_sideways_scroll(page)
            await shot(page, screenshots, "unit-case-duplicate-360.png")
            assert len(await intake.events("case.reported")) == 1
            assert elsewhere == []


async def test_a_liaison_sees_the_summary_report_already_sent_and_what_sending_again_does(
    start_intake: Any, mailbox: Mailbox, screenshots: Path
) -> None:
    report = {"unit": "45", "title": "广西壮族自治区2021年“安全生产月”活动总结",
              "body": "全区组织开展了安全宣传咨询日等活动，排查整改隐患一批。"}  # fmt: skip
    pdf = b"%PDF-1.4\n" + b"0" * 3000 + b"\n%%EOF\n"
    async with (
        start_intake(smtp_host=mailbox.host, smtp_port=mailbox.port) as intake,
        serving(intake.app) as address,
    ):
        await an_active_account(intake, mailbox, "liaison.45@example.gov.cn", "王芳", "unit", "45")
        sent = await intake.client.post("/v1/summary-reports", headers=intake.auth("unit", "45"),
                                        data=report, files={"file": ("总结-广西.pdf", pdf, "application/pdf")})  # fmt: skip
        assert sent.status_code == 202, sent.text
        for viewport in (DESK, PHONE):
            async with phone(address, viewport) as (page, elsewhere):
                await sign_in(page, address, "liaison.45@example.gov.cn")
                await page.goto(f"{address}/portal/unit/summary")
                card = page.get_by_test_id("sent")
                await expect(card.locator('[data-sent="title"]')).to_have_text(report["title"])
                await expect(card.locator('[data-sent="times"]')).to_have_text("1 次")
                await expect(card.locator('[data-sent="on_time"]')).to_contain_text(
                    "按时报送（2021/"
                )
                await expect(card.locator('[data-sent="file"]')).to_have_text(
                    "总结-广西.pdf（3 KiB）"
                )
                await expect(page.get_by_test_id("resend")).to_contain_text(
                    "不选择新附件则保留已报送的附件“总结-广西.pdf”"
                )
                await expect(page.get_by_test_id("resend")).to_contain_text("仍记为按时报送")
                # The form holds what was sent, to be edited rather than typed again.
                await expect(page.locator("#title")).to_have_value(report["title"])
                async with page.expect_download() as waiting:
                    await page.get_by_role("button", name="下载已报送的附件").click()
                download = await waiting.value
                assert download.suggested_filename == "总结-广西.pdf"
                assert await asyncio.to_thread(Path(await download.path()).read_bytes) == pdf
                await no_sideways_scroll(page)
                await shot(page, screenshots, f"unit-summary-sent-{viewport['width']}.png")
                assert elsewhere == []

        # Sent again from the phone without a file: the file is kept, the sending counted.
        async with phone(address) as (page, _):
            await sign_in(page, address, "liaison.45@example.gov.cn")
            await page.goto(f"{address}/portal/unit/summary")
            await page.get_by_label("报告正文").fill("更正后的正文：全区共开展宣传活动120场。")
            await page.get_by_role("button", name="再次提交总结报告").click()
            card = page.get_by_test_id("sent")
            await expect(card.locator('[data-sent="times"]')).to_have_text("2 次")
            await expect(card.locator('[data-sent="file"]')).to_have_text("总结-广西.pdf（3 KiB）")
        read = await intake.client.get("/v1/summary-reports/45", headers=intake.auth("unit", "45"))
        assert read.json()["body"] == "更正后的正文：全区共开展宣传活动120场。"


async def test_office_staff_issue_an_account_mail_it_again_and_withdraw_it(
    start_intake: Any, mailbox: Mailbox, screenshots: Path
) -> None:
    new = "liaison.45@example.gov.cn"
    async with start_intake(smtp_host=mailbox.host, smtp_port=mailbox.port) as intake, serving(
        intake.app
    ) as address:  # fmt: skip
        await an_active_account(intake, mailbox, "staff@example.gov.cn", "王芳", "staff")
        async with phone(address) as (page, elsewhere):
            await sign_in(page, address, "staff@example.gov.cn")
            await page.goto(f"{address}/portal/office/accounts")
            await expect(page.locator("#who-unit")).to_have_text("办公室工作人员")
            await expect(page.get_by_label("身份")).to_be_hidden()  # staff issue units' only
            await page.get_by_label("姓名").fill("张伟")
            await page.get_by_label("邮箱").fill(new)
            await page.get_by_role("button", name="开设账号并发送激活邮件").click()
            await expect(page.locator('[data-for="unit"]')).to_have_text("此项为必填项。")
            await page.locator("#unit").select_option("45")
            await page.get_by_role("button", name="开设账号并发送激活邮件").click()
            await expect(page.locator("#banner")).to_contain_text(f"激活邮件已发送至 {new}")
            item = page.locator(f'li.account[data-email="{new}"]')
            await expect(item.locator(".badge")).to_have_text("待激活")
            await expect(item.locator('[data-item="last_sign_in"]')).to_have_text("从未登录")
            await _link(mailbox, new)

            await item.get_by_role("button", name="重发激活邮件").click()
            await expect(item.locator(".item-message")).to_have_text(
                f"激活邮件已重新发送至 {new}。"
            )
            await _link(mailbox, new, nth=1)
            await no_sideways_scroll(page)
            await shot(page, screenshots, "office-accounts-360.png")

            await item.get_by_role("button", name="停用账号").click()
            await item.get_by_label("停用原因").fill("联络员调离")
            await item.get_by_role("button", name="确认停用").click()
            await expect(page.locator("#banner")).to_contain_text("已停用 张伟")
            await expect(item.locator(".badge")).to_have_text("已停用")
            await expect(item.get_by_role("button", name="停用账号")).to_be_hidden()
            [row] = await intake.rows(
                "SELECT status, withdrawn_reason FROM accounts WHERE email = $1", new
            )
            assert (row["status"], row["withdrawn_reason"]) == ("withdrawn", "联络员调离")
            await no_sideways_scroll(page)
            await shot(page, screenshots, "office-accounts-withdrawn-360.png")
            assert elsewhere == []
