"""The public's two ways in, a tip and a receipt look-up, limited per client address: what the
API's routes and the public pages both call, so that a page is never a second path."""

from collections.abc import Callable
from typing import Any

from smonth_intake import domain, handlers, repository
from smonth_intake.grouped import Grouped
from smonth_intake.models import TipLookup, TipSubmission
from smonth_shared.runtime import Runtime

RateLimit = tuple[str, str, str]  # the bucket, and what is limited in English and in Chinese
RATE_WINDOW_SECONDS = 60
TIP_RATE_LIMIT: RateLimit = ("tip", "tips", "提交举报")
LOOKUP_RATE_LIMIT: RateLimit = ("lookup", "lookups", "查询")


class Tipline:
    def __init__(
        self, runtime: Runtime, deps: Callable[[], handlers.Deps], *, per_minute: int
    ) -> None:
        self.runtime = runtime
        self.deps = deps
        self.per_minute = per_minute
        # Keyless tips and every rate count, grouped with those of concurrent requests.
        self._tips = Grouped("tips", self._write_tips)
        self._counts = Grouped("request-rate", self._count_requests)

    async def limit_rate(self, address: str, limit: RateLimit) -> None:
        """Passes once the address is within its requests a minute (else 429, saying when)."""
        bucket, what, what_zh = limit
        window, retry_after = domain.rate_window(self.runtime.clock.now(), RATE_WINDOW_SECONDS)
        hits = await self._counts((f"{bucket}:{address}", window))
        if hits > self.per_minute:
            raise domain.too_many(self.per_minute, retry_after, what, what_zh)

    async def submit(self, address: str, tip: TipSubmission) -> dict[str, Any]:
        """A tip without an idempotency key: its answer holds the receipt code, shown once."""
        await self.limit_rate(address, TIP_RATE_LIMIT)
        accepted = await handlers.accept_tip(self.runtime.pool, self.deps(), tip)
        await self._tips(accepted)
        return accepted.answer

    async def look_up(self, address: str, lookup: TipLookup) -> dict[str, Any]:
        await self.limit_rate(address, LOOKUP_RATE_LIMIT)
        async with self.runtime.pool.acquire() as conn:
            return await handlers.look_up_tip(conn, lookup)

    async def _write_tips(self, tips: list[handlers.AcceptedTip]) -> list[None]:
        async with self.runtime.pool.acquire() as conn:
            await handlers.write_tips(conn, self.runtime.outbox, tips)
        return [None] * len(tips)

    async def _count_requests(self, keys: list[repository.RateKey]) -> list[int]:
        return await repository.count_requests(self.runtime.pool, keys)
