"""The two ways the tests wait on state that sends no notice — a database row, a consumer
group's committed offset, another process's HTTP answer: ask again, briefly, until it holds or
the limit (sized for a busy two-core machine) runs out. Whatever does send a notice (a mail
arriving at the test's SMTP server, a server's socket) is waited on directly instead."""

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any


async def eventually(
    check: Callable[[], Awaitable[Any] | Any],
    *,
    within: float = 30.0,
    interval: float = 0.05,
    what: str = "the condition",
) -> Any:
    """Asks `check` (sync or async) until it answers something truthy, and returns that."""
    deadline = time.monotonic() + within
    while True:
        outcome = check()
        if isinstance(outcome, Awaitable):
            outcome = await outcome
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not true within {within} s")
        await asyncio.sleep(interval)


def eventually_blocking(
    check: Callable[[], Any], *, timeout: float = 60.0, interval: float = 0.2,
    what: str = "the condition",
) -> Any:  # fmt: skip
    """`eventually` for tests outside an event loop (the journeys, driving other processes)."""
    deadline = time.monotonic() + timeout
    while True:
        outcome = check()
        if outcome:
            return outcome
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: not true after {timeout} s")
        time.sleep(interval)
