"""Invitations and reset links leave through intake's own mail server connection.

The account handlers queue a mail in the same transaction as the link it carries (so a link is
never made without its mail, nor mailed without being stored); this job sends what is due, one
row at a time under SKIP LOCKED (several instances share the queue), and tries a mail the
server did not take again with a growing pause.
"""

import asyncio
import contextlib
import logging
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import aiosmtplib
import asyncpg
from cryptography.fernet import MultiFernet

from smonth_shared.backoff import Backoff
from smonth_shared.db import DATABASE_OUTAGES

log = logging.getLogger(__name__)

POLL_SECONDS = 5.0
RETRY_AFTER = (timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=10))


class AccountMail:
    def __init__(
        self, pool: asyncpg.Pool, cipher: MultiFernet, *, host: str, port: int, sender: str,
        timeout: float = 10.0,
    ) -> None:  # fmt: skip
        self.pool = pool
        self.cipher = cipher
        self.host, self.port, self.sender, self.timeout = host, port, sender, timeout
        self.wake = asyncio.Event()

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                async with self.pool.acquire() as listener:
                    await listener.add_listener("account_mail", self._on_notify)
                    try:
                        while True:
                            while await self.send_one():
                                pass
                            backoff = Backoff()
                            self.wake.clear()
                            # asyncio.timeout, not wait_for: on 3.11 wait_for can lose a
                            # cancellation that arrives as the wake-up does.
                            with contextlib.suppress(TimeoutError):
                                async with asyncio.timeout(POLL_SECONDS):
                                    await self.wake.wait()
                    finally:
                        with contextlib.suppress(*DATABASE_OUTAGES):
                            await listener.remove_listener("account_mail", self._on_notify)
            except DATABASE_OUTAGES as outage:
                delay = backoff.next()
                log.warning("account mail: database unavailable (%s); retrying in %.1f s",
                            outage, delay)  # fmt: skip
                await asyncio.sleep(delay)

    def _on_notify(self, *_: object) -> None:
        self.wake.set()

    async def send_one(self) -> bool:
        """Sends the next due mail; False when none is due."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(
                "SELECT * FROM account_mail WHERE sent_at IS NULL AND next_attempt_at <= now() "
                "ORDER BY next_attempt_at LIMIT 1 FOR UPDATE SKIP LOCKED"
            )
            if row is None:
                return False
            message = EmailMessage()
            message["From"], message["To"] = self.sender, row["to_address"]
            message["Subject"] = row["subject"]
            message.set_content(self.cipher.decrypt(bytes(row["body"])).decode())
            try:
                await aiosmtplib.send(message, hostname=self.host, port=self.port,
                                      timeout=self.timeout)  # fmt: skip
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                pause = RETRY_AFTER[min(row["attempts"], len(RETRY_AFTER) - 1)]
                await conn.execute(
                    "UPDATE account_mail SET attempts = attempts + 1, last_error = $2, "
                    "next_attempt_at = $3 WHERE mail_id = $1",
                    row["mail_id"], str(error)[:500], datetime.now(UTC) + pause,
                )  # fmt: skip
                log.warning("account mail %s to the mail server %s:%s not sent (%s); again in %s",
                            row["mail_id"], self.host, self.port, error, pause)  # fmt: skip
                return False
            await conn.execute("UPDATE account_mail SET sent_at = now(), "
                               "attempts = attempts + 1 WHERE mail_id = $1", row["mail_id"])  # fmt: skip
            log.info("account mail %s sent", row["mail_id"])
            return True
