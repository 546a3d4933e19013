"""What the page tests share: intake served on a real socket, Debian's Chromium at a phone's
360 px recording every request to another origin, and the link of an account mail."""

import asyncio
import contextlib
import re
import socket
from collections.abc import AsyncIterator
from typing import Any

import uvicorn
from playwright.async_api import Page, ViewportSize

from safety_month.browser import CHROMIUM, chinese_chromium
from tests.integration.notify.notify_support import Mailbox

__all__ = ["CHROMIUM", "DESK", "PHONE", "link_in_mail", "no_sideways_scroll", "phone", "serving"]

PHONE: ViewportSize = {"width": 360, "height": 740}
DESK: ViewportSize = {"width": 1280, "height": 900}


@contextlib.asynccontextmanager
async def serving(app: Any) -> AsyncIterator[str]:
    """The running app on a port of 127.0.0.1 (a browser needs a real socket)."""
    # Bound and listening before the server runs: a browser's first request waits in the
    # socket's backlog, however long the server takes to start.
    listening = socket.create_server(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False,
                                           lifespan="off"))  # fmt: skip
    task = asyncio.create_task(server.serve(sockets=[listening]))
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        listening.close()


@contextlib.asynccontextmanager
async def phone(
    address: str, viewport: ViewportSize = PHONE, **context: Any
) -> AsyncIterator[tuple[Page, list[str]]]:
    """A page at 360 px (or `viewport`) in a Chinese Chromium, whose date inputs show
    2021/06/18 as a liaison's do, and the list of every URL it asked for outside `address`."""
    elsewhere: list[str] = []
    async with chinese_chromium() as browser:
        context = {"locale": "zh-CN", **context}
        page = await browser.new_page(viewport=viewport, device_scale_factor=2, **context)
        page.on("request", lambda request: None if request.url.startswith(address)
                or request.url.startswith(("data:", "blob:"))
                else elsewhere.append(request.url))  # fmt: skip
        yield page, elsewhere


async def link_in_mail(mailbox: Mailbox, address: str) -> str:
    message: Any = await mailbox.mail_to(address)
    body = message.get_body(("plain",)).get_content()
    [link] = re.findall(r"(https?://\S+/portal/activate#token=[A-Za-z0-9_-]+)", body)
    return link


async def no_sideways_scroll(page: Page) -> None:
    width = await page.evaluate("document.documentElement.scrollWidth")
    window = (page.viewport_size or PHONE)["width"]
    assert width <= window, f"the page is {width} px wide at {window} px"
