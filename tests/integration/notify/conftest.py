"""Real servers for notify's integration tests: an SMTP server (aiosmtpd) and an SMS gateway
(http.server), each on a free localhost port, and notify's tables in a fresh database."""

import json
import threading
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import asyncpg
import httpx
import pytest

from smonth_notify.app import MIGRATIONS
from smonth_notify.channels import EmailSender, Sender, SmsSender
from smonth_notify.domain import Channel
from smonth_shared.db import create_pool, migrate
from tests.integration.notify.notify_support import CAMPAIGN, Mailbox, Notify, SmsGateway


@pytest.fixture
def smtp_server() -> Iterator[Mailbox]:
    with Mailbox.serving() as mailbox:
        yield mailbox


@pytest.fixture
def sms_gateway() -> Iterator[SmsGateway]:
    gateway = SmsGateway()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            gateway.requests.append((dict(self.headers), body))
            self.send_response(gateway.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    gateway.url = f"http://127.0.0.1:{server.server_address[1]}/sms"
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield gateway
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    await migrate(database_url, "notify", MIGRATIONS)
    pool = await create_pool(database_url, "notify")
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def notify(
    pool: asyncpg.Pool, smtp_server: Mailbox, sms_gateway: SmsGateway
) -> AsyncIterator[Notify]:
    async with httpx.AsyncClient(timeout=5) as client:
        senders: dict[Channel, Sender] = {
            "email": EmailSender(
                host=smtp_server.host, port=smtp_server.port, sender="notify@anquanyue.example",
                sender_name=CAMPAIGN.office.name, timeout=5,
            ),
            "sms": SmsSender(client, url=sms_gateway.url),
        }  # fmt: skip
        yield Notify(pool, senders)
