"""The reminder clock: at each occasion's time (by the service's clock, wall or simulated) plan
what is due and hand it to the senders.

One scheduler per service at a time (a PostgreSQL advisory lock, like the outbox relay): it alone
may resume the reminders a stopped sender left 'sending'. After a restart it plans and sends what
today's occasions still owe; a reminder of an earlier day is not sent late but expires.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from uuid import UUID

import asyncpg

from smonth_notify import handlers, repository
from smonth_notify.handlers import Delivery
from smonth_shared.clock import Clock
from smonth_shared.outbox import TRANSIENT_ERRORS

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(
        self, *, dsn: str, clock: Clock, delivery: Delivery, concurrency: int,
        standby_interval: float = 2.0,
    ) -> None:  # fmt: skip
        self.dsn = dsn
        self.clock = clock
        self.delivery = delivery
        self.standby_interval = standby_interval
        self._slots = asyncio.Semaphore(concurrency)
        self._in_flight: set[UUID] = set()

    async def run(self) -> None:
        """Until the campaign's last occasion has passed (or cancelled)."""
        while True:
            async with self._leadership() as leading:
                if leading is not None:
                    await self._lead(leading)
                    return
            await asyncio.sleep(self.standby_interval)

    async def _lead(self, lock_conn: asyncpg.Connection) -> None:
        d = self.delivery
        campaign = d.planner.campaign.id
        resumed = await repository.release_interrupted(d.pool, campaign)
        if resumed:
            log.warning("resuming %s reminders a stopped sender left 'sending'", resumed)
        async with asyncio.TaskGroup() as sending:
            while True:
                if lock_conn.is_closed():
                    raise asyncpg.InterfaceError("the scheduler's lock connection was closed")
                now = self.clock.now()
                await self.tick(now, sending)
                following = d.planner.next_send_time(now)
                if following is None:
                    log.info("the last reminder occasion of campaign %s has passed", campaign)
                    return
                await self.clock.sleep_until(following)

    async def tick(self, now: datetime, sending: asyncio.TaskGroup) -> None:
        """Expire earlier days' leftovers, plan today's occasions up to now, start sending them."""
        pool, planner = self.delivery.pool, self.delivery.planner
        await handlers.expire(now, pool=pool, planner=planner)
        await handlers.plan(now, pool=pool, planner=planner)
        for reminder_id in await handlers.due(now, pool=pool, planner=planner):
            if reminder_id not in self._in_flight:
                self._in_flight.add(reminder_id)
                sending.create_task(self._send(reminder_id))

    async def _send(self, reminder_id: UUID) -> None:
        try:
            async with self._slots:
                await handlers.deliver(reminder_id, delivery=self.delivery)
        finally:
            self._in_flight.discard(reminder_id)

    @contextlib.asynccontextmanager
    async def _leadership(self) -> AsyncIterator[asyncpg.Connection | None]:
        conn = await asyncpg.connect(self.dsn)
        try:
            held = await conn.fetchval(
                "SELECT pg_try_advisory_lock(hashtext($1))",
                f"notify-scheduler:{self.delivery.planner.campaign.id}",
            )
            yield conn if held else None
        finally:
            # Closing the session releases the advisory lock.
            with contextlib.suppress(*TRANSIENT_ERRORS):
                await conn.close()
