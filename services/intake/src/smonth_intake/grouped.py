"""Writes of concurrent requests grouped into one statement: the public's tips, and the counts of
their rate limit. What comes while one statement runs goes together in the next.

At a few tips a second each is written alone and at once; at hundreds a second the database
commits (and flushes its log) once per group instead of once per request, one row of the rate
limit is updated once per group instead of by each request in turn, and intake pays for one
round trip instead of many. A request is answered only after its group has committed. A group
the database refuses for something other than an outage is written again one by one, so that
one request's fault is its own error alone.
"""

import asyncio
import contextvars
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Generic, TypeVar

from smonth_shared.outbox import TRANSIENT_ERRORS

log = logging.getLogger(__name__)

Item = TypeVar("Item")
Result = TypeVar("Result")

MOST_IN_ONE_STATEMENT = 500


class Grouped(Generic[Item, Result]):
    """`write(items)` returns one result per item, in their order, as one statement."""

    def __init__(
        self, name: str, write: Callable[[list[Item]], Awaitable[list[Result]]],
        most_in_one_statement: int = MOST_IN_ONE_STATEMENT,
    ) -> None:  # fmt: skip
        self.name = name
        self.write = write
        self.most_in_one_statement = most_in_one_statement
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def __call__(self, item: Item) -> Result:
        """The item's result once its statement has committed; raises what the statement raised."""
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None:
            # A context of its own: the writer serves many requests, and carries none's.
            self._writer = asyncio.create_task(
                self._write_all(), name=f"grouped-{self.name}", context=contextvars.Context()
            )
        return await done  # a request given up on still has its item written with the others

    async def _write_all(self) -> None:
        try:
            while self._waiting:
                group = self._waiting[: self.most_in_one_statement]
                del self._waiting[: len(group)]
                await self._write(group)
        finally:
            self._writer = None

    async def _write(self, group: list[tuple[Item, "asyncio.Future[Result]"]]) -> None:
        try:
            results = await self.write([item for item, _ in group])
        except TRANSIENT_ERRORS as outage:
            _fail(group, outage)
        except Exception as error:
            if len(group) == 1:
                _fail(group, error)
                return
            log.warning("%s: a group of %d was refused (%s); writing each alone", self.name,
                        len(group), type(error).__name__)  # fmt: skip
            for one in group:
                await self._write([one])
        except BaseException:  # cancelled while writing: the requests are told so
            for _, done in group:
                done.cancel()
            raise
        else:
            for (_, done), result in zip(group, results, strict=True):
                if not done.done():
                    done.set_result(result)


def _fail(group: Sequence[tuple[object, "asyncio.Future[Any]"]], error: BaseException) -> None:
    for _, done in group:
        if not done.done():
            done.set_exception(error)
