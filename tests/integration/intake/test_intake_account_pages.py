"""The account pages in headless Chromium (Debian's package), at a phone's 360 px: a liaison takes
up the invitation from the mail's link, sees refusals in Chinese next to the field, signs out and
in again; nothing is fetched from another origin and nothing scrolls sideways."""

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import expect

from safety_month.browser import MISSING
from smonth_intake import account_pages
from tests.integration.intake.browser_support import (
    CHROMIUM,
    link_in_mail,
    no_sideways_scroll,
    phone,
    serving,
)
from tests.integration.notify.notify_support import Mailbox

pytestmark = pytest.mark.integration
Intake = Any  # tests/integration/intake/conftest.py's

PASSWORD = "安全第一-Passw0rd"
EMAIL = "liaison.44@example.gov.cn"


@pytest.fixture(autouse=True)
def chromium() -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(MISSING)


async def test_a_liaison_activates_from_the_mail_then_signs_out_and_in_on_a_phone(
    start_intake: Any, mailbox: Mailbox, screenshots: Path
) -> None:
    async with start_intake(smtp_host=mailbox.host, smtp_port=mailbox.port,
                            public_url="http://127.0.0.1") as intake, serving(intake.app) as address:  # fmt: skip
        invited = await intake.client.post(
            "/v1/accounts", headers=intake.auth("admin"),
            json={"email": EMAIL, "name": "李明", "role": "unit", "unit": "44"},
        )  # fmt: skip
        assert invited.status_code == 201, invited.text
        link = (await link_in_mail(mailbox, EMAIL)).replace("http://127.0.0.1", address)

        async with phone(address) as (page, elsewhere):
            fonts: list[str] = []
            page.on("request", lambda request: fonts.append(request.url.rsplit("/", 1)[-1])
                    if request.resource_type == "font" else None)  # fmt: skip
            await page.goto(link)
            activation, sign_in = (
                page.locator('[data-page="activate"]'),
                page.locator('[data-page="sign-in"]'),
            )
            await expect(activation.get_by_role("heading", name="激活账号")).to_be_visible()
            assert "token" not in page.url  # the one-time link leaves the address bar at once
            await no_sideways_scroll(page)
            await page.evaluate("document.fonts.ready")
            # The pages' own words come in the small face; the common characters' face waits
            # for a character only it has (the name shown after signing in).
            assert fonts == ["font-page.woff"]

            await activation.get_by_label("新密码", exact=True).fill("short")
            await activation.get_by_label("再次输入新密码").fill("short")
            await activation.get_by_role("button", name="设置密码并激活").click()
            await expect(activation.locator('[data-for="password"]')).to_have_text(
                "密码至少 10 个字符。"
            )

            # The service's own rule, answered by the API and shown beside its field.
            await activation.get_by_label("新密码", exact=True).fill(EMAIL)
            await activation.get_by_label("再次输入新密码").fill(EMAIL)
            await activation.get_by_role("button", name="设置密码并激活").click()
            await expect(activation.locator('[data-for="password"]')).to_have_text(
                "密码不能与邮箱相同。"
            )
            await page.screenshot(path=str(screenshots / "account-activate-refused-360.png"),
                                  full_page=True)  # fmt: skip

            await activation.get_by_label("新密码", exact=True).fill(PASSWORD)
            await activation.get_by_label("再次输入新密码").fill(PASSWORD)
            await activation.get_by_role("button", name="设置密码并激活").click()
            await expect(page.locator("#message")).to_have_text("密码已设置，请用新密码登录。")
            await expect(sign_in.get_by_label("邮箱")).to_have_value(EMAIL)
            await sign_in.get_by_label("密码").fill(PASSWORD)
            await sign_in.get_by_role("button", name="登录").click()
            await expect(page.locator('[data-field="name"]')).to_have_text("李明")
            await expect(page.locator('[data-field="unit"]')).to_have_text("44")
            await expect(page.locator('[data-field="role"]')).to_have_text("单位联络员")
            faces = await page.evaluate(
                "document.fonts.ready.then(fs => [...fs].map(f => [f.family, f.status]))"
            )
            assert sorted(fonts) == ["font-page.woff", "font-text.woff"]
            assert [status for family, status in faces if "Smonth Sans SC" in family] == [
                "loaded"
            ] * 2
            await page.screenshot(path=str(screenshots / "account-signed-in-360.png"),
                                  full_page=True)  # fmt: skip

            await page.get_by_role("button", name="退出登录").click()
            await expect(sign_in.get_by_role("heading", name="登录")).to_be_visible()
            await sign_in.get_by_label("邮箱").fill(EMAIL)
            await sign_in.get_by_label("密码").fill("not-the-password")
            await sign_in.get_by_role("button", name="登录").click()
            await expect(page.locator("#message")).to_have_text("邮箱或密码不正确。")
            await sign_in.get_by_label("密码").fill(PASSWORD)
            await sign_in.get_by_role("button", name="登录").click()
            await expect(page.locator('[data-field="email"]')).to_have_text(EMAIL)
            await no_sideways_scroll(page)

            # The link was for once: opened again, the page says so, in Chinese.
            await page.goto(link)
            await activation.get_by_label("新密码", exact=True).fill(PASSWORD + "x")
            await activation.get_by_label("再次输入新密码").fill(PASSWORD + "x")
            await activation.get_by_role("button", name="设置密码并激活").click()
            await expect(page.locator("#message.error")).to_be_visible()
            assert re.search(r"[\u4e00-\u9fff]", await page.locator("#message").inner_text())
            assert elsewhere == []


async def test_a_page_opened_without_the_link_says_where_to_get_one(
    start_intake: Any, mailbox: Mailbox
) -> None:
    async with start_intake(smtp_host=mailbox.host, smtp_port=mailbox.port) as intake, serving(
        intake.app
    ) as address, phone(address) as (page, _):  # fmt: skip
        await page.goto(f"{address}/portal/reset-password")
        await expect(page.locator("#message")).to_contain_text("链接不完整")
        await expect(page.locator("form[data-needs-link]").first).to_be_hidden()
        answer = await intake.client.get("/portal/no-such-page")
        assert answer.status_code == 404


async def test_the_pages_typeface_is_a_small_cut_of_their_words_and_a_face_for_names(
    start_intake: Any, mailbox: Mailbox
) -> None:
    async with start_intake(smtp_host=mailbox.host, smtp_port=mailbox.port) as intake:
        faces = (await intake.client.get("/portal/account/fonts.css")).text
        page_face = await intake.client.get("/portal/account/font-page.woff")
    assert faces.count("@font-face") == 2 and faces.count("unicode-range") == 1
    assert "李" not in account_pages._characters()  # a name's character, from the other face
    assert page_face.headers["content-type"] == "font/woff"
    assert len(page_face.content) < 400_000  # the whole common set at every weight is 2 MB
