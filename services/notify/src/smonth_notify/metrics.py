"""notify's own gauge on /metrics: its reminders by status, read from the database at each scrape
(a reminder stuck `sending`, or `failed` rising, is what an operator looks for)."""

from typing import get_args

import asyncpg
from prometheus_client import Gauge

from smonth_notify import repository
from smonth_notify.domain import Status

REMINDERS = Gauge("smonth_reminders", "Reminders in each status, every campaign's", ["status"])


async def observe_reminders(pool: asyncpg.Pool) -> None:
    counts = await repository.count_by_status(pool)
    for status in get_args(Status):  # a status no reminder has yet shows 0, not nothing
        REMINDERS.labels(status).set(counts.get(status, 0))
