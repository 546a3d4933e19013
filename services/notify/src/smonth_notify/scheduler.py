"""The reminder clock: at each occasion's time (by the service's clock, wall or simulated) plan
what is due and hand it to the senders.

One scheduler per service at a time (a PostgreSQL advisory lock, like the outbox relay): it alone
may resume the reminders a stopped sender left 'sending'. After a restart it plans and sends what
today's occasions still owe; a reminder of an earlier day is not sent late but expires.
It wakes at each occasion's time and at each postponed reminder's retry.
"""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any
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
        # Set while everything due by the clock has been handled and the scheduler waits for
        # the next occasion or retry; cleared while it plans or sends.
        self.settled = asyncio.Event()
        self._send_ended = asyncio.Event()

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
                await self.tick(self.clock.now(), sending)
                if not await self._sleep_until_next():
                    log.info("the last reminder occasion of campaign %s has passed", campaign)
                    return

    async def tick(self, now: datetime, sending: asyncio.TaskGroup) -> None:
        """Expire earlier days' leftovers, plan today's occasions up to now, start sending them."""
        self.settled.clear()
        d = self.delivery
        await handlers.expire(now, pool=d.pool, planner=d.planner, outbox=d.outbox)
        await handlers.plan(now, pool=d.pool, planner=d.planner)
        for reminder_id in await handlers.due(now, pool=d.pool, planner=d.planner):
            if reminder_id not in self._in_flight:
                self._in_flight.add(reminder_id)
                sending.create_task(self._send(reminder_id))
        self._settle_if_idle()

    async def _sleep_until_next(self) -> bool:
        """Until the next occasion, or a postponed reminder's retry if that comes first (a retry
        falling on a later day wakes the scheduler all the same: then its reminder has failed).
        A send that ends meanwhile may have postponed its reminder: the wake-up is looked at
        again. False once nothing is left to wake for."""
        while True:
            self._send_ended.clear()
            following = self.delivery.planner.next_send_time(self.clock.now())
            retry = await repository.next_retry(
                self.delivery.pool, self.delivery.planner.campaign.id
            )
            wake = min(filter(None, (following, retry)), default=None)
            if wake is None and not self._in_flight:
                return False
            waits: list[asyncio.Future[Any]] = [asyncio.ensure_future(self._send_ended.wait())]
            if wake is not None:
                waits.append(asyncio.ensure_future(self.clock.sleep_until(wake)))
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for wait in waits:
                    wait.cancel()
            if wake is not None and self.clock.now() >= wake:
                return True

    async def _send(self, reminder_id: UUID) -> None:
        try:
            async with self._slots:
                postponed = await handlers.deliver(reminder_id, delivery=self.delivery) == "planned"
        finally:
            self._in_flight.discard(reminder_id)
            self._settle_if_idle()
        if postponed or not self._in_flight:
            self._send_ended.set()

    def _settle_if_idle(self) -> None:
        if not self._in_flight:
            self.settled.set()

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
