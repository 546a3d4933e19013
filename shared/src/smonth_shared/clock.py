"""The one clock: the wall clock in production, a simulated clock for the demo and tests.

A simulated clock shows `start` until the wall instant `origin`, then runs `speed` times faster,
so every process given the same three settings shows the same time without talking to the
others, and processes started before the origin all see the campaign begin together.
"""

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...

    async def sleep_until(self, instant: datetime) -> None: ...


class WallClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep_until(self, instant: datetime) -> None:
        await asyncio.sleep(max(0.0, (instant - self.now()).total_seconds()))


class SimulatedClock:
    def __init__(self, start: datetime, *, speed: float, origin: datetime | None = None) -> None:
        if start.tzinfo is None:
            raise ValueError("the simulated clock's start needs a time zone offset")
        self.start = start
        self.speed = speed
        self.origin = origin or datetime.now(UTC)

    def now(self) -> datetime:
        elapsed = max(0.0, (datetime.now(UTC) - self.origin).total_seconds())
        return self.start + timedelta(seconds=elapsed * self.speed)

    async def sleep_until(self, instant: datetime) -> None:
        simulated_seconds = (instant - self.now()).total_seconds()
        until_origin = max(0.0, (self.origin - datetime.now(UTC)).total_seconds())
        await asyncio.sleep(max(0.0, simulated_seconds / self.speed) + until_origin)


def clock_from_settings(
    start: datetime | None, speed: float, origin: datetime | None
) -> WallClock | SimulatedClock:
    if start is None:
        return WallClock()
    return SimulatedClock(start, speed=speed, origin=origin)
