"""The one clock: the wall clock in production, a simulated clock for the demo and tests.

A simulated clock shows `start` until the wall instant `origin`, then runs `speed` times faster,
so every process given the same three settings shows the same time without talking to the
others, and processes started before the origin all see the campaign begin together.
"""

import asyncio
import itertools
from collections.abc import Sequence
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


SpeedChange = tuple[datetime, float]  # from this simulated instant on, this speed


class SimulatedClock:
    """`speed` simulated seconds per wall second from `start`; `changes` switch the speed at given
    simulated instants, so a busy month can run slower than the quiet ones that follow."""

    def __init__(
        self, start: datetime, *, speed: float, origin: datetime | None = None,
        changes: Sequence[SpeedChange] = (),
    ) -> None:  # fmt: skip
        if start.tzinfo is None:
            raise ValueError("the simulated clock's start needs a time zone offset")
        self.start = start
        self.speed = speed
        self.origin = origin or datetime.now(UTC)
        self._segments = [(start, speed), *sorted(c for c in changes if c[0] > start)]

    def now(self) -> datetime:
        left = max(0.0, (datetime.now(UTC) - self.origin).total_seconds())
        for (begins, speed), (ends, _) in itertools.pairwise(self._segments):
            span = (ends - begins).total_seconds() / speed
            if left <= span:
                return begins + timedelta(seconds=left * speed)
            left -= span
        begins, speed = self._segments[-1]
        return begins + timedelta(seconds=left * speed)

    def wall_time_of(self, instant: datetime) -> datetime:
        """When, on the wall clock, this clock shows `instant`."""
        seconds = 0.0
        for (begins, speed), (ends, _) in itertools.pairwise([*self._segments, (instant, 0.0)]):
            if begins >= instant:
                break
            seconds += (min(ends, instant) - begins).total_seconds() / speed
        try:
            return self.origin + timedelta(seconds=seconds)
        except OverflowError:  # a clock all but stopped: the instant comes after any date
            return datetime.max.replace(tzinfo=UTC)

    async def sleep_until(self, instant: datetime) -> None:
        # In steps of at most an hour: a far instant costs a wake-up an hour, not an overflow.
        while True:
            seconds = (self.wall_time_of(instant) - datetime.now(UTC)).total_seconds()
            if seconds <= 0:
                return
            await asyncio.sleep(min(seconds, 3600.0))


def parse_speed_changes(text: str) -> list[SpeedChange]:
    """`2021-07-08T00:00:00+08:00=250000; ...` — the form CLOCK_SPEED_CHANGES takes."""
    changes = []
    for item in filter(None, (part.strip() for part in text.split(";"))):
        instant, _, speed = item.rpartition("=")
        changes.append((datetime.fromisoformat(instant), float(speed)))
    return changes


def clock_from_settings(
    start: datetime | None, speed: float, origin: datetime | None, speed_changes: str = ""
) -> WallClock | SimulatedClock:
    if start is None:
        return WallClock()
    return SimulatedClock(
        start, speed=speed, origin=origin, changes=parse_speed_changes(speed_changes)
    )
