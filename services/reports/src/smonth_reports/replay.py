"""Rebuilding reports' read model from the beginning of the topics.

A throwaway consumer (no group, so the service's committed offsets stay as they are) reads every
partition from its beginning to the end it had when the replay started, and applies each event
with the service's own effects (a fetched batch at a time, as the live consumer does), in ONE
transaction that first empties the read model: until it commits, the old read model stays whole,
and a failed replay changes nothing.

The inbox rows of the reports consumer are rebuilt in the same transaction, so when the service
starts again and its consumer resumes from its committed offsets, what the replay applied is
skipped and what came after is applied: the rebuilt summary equals the one a never-stopped
service would show. The service must be stopped meanwhile (its consumer would write into the
tables being rebuilt): the replay refuses while the consumer group has members.
"""

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from smonth_reports.app import CONSUMED_TOPICS, MIGRATIONS
from smonth_reports.config import ReportsSettings
from smonth_reports.handlers import BATCH_EFFECTS, EFFECTS
from smonth_reports.repository import READ_MODEL_TABLES, tips_tallied_at_the_end
from smonth_shared.consumer import Inbox, apply_batch
from smonth_shared.db import Connection, connect, migrate
from smonth_shared.events import ReadEvent, read_event
from smonth_shared.runtime import freeze_start_up_objects
from smonth_shared.topics import ensure_topics

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (offsets read, offsets to read)
STALL_SECONDS = 30.0


class ReplayRefused(RuntimeError):
    """The replay cannot run now; the message says why and what to do."""


@dataclass(frozen=True)
class ReplayResult:
    applied: int  # events that took effect
    skipped: int  # unreadable, repeated, of a type reports ignores, or failing (dead-lettered live)
    seconds: float


async def replay(
    settings: ReportsSettings, progress: Progress | None = None,
    topics: tuple[str, ...] = CONSUMED_TOPICS,
) -> ReplayResult:  # fmt: skip
    """Rebuild the read model from `topics` (those the service consumes), calling `progress` as
    it goes; refuses (ReplayRefused) while the service is consuming."""
    started = time.monotonic()
    freeze_start_up_objects()
    await migrate(settings.database_url, settings.db_schema, MIGRATIONS)
    await ensure_topics(settings.kafka)
    partitions = await _partitions_when_idle(settings, topics)
    consumer = AIOKafkaConsumer(
        **settings.kafka.client_options(), group_id=None,
        enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=2000,
    )  # fmt: skip
    await consumer.start()
    conn = await connect(settings.database_url, settings.db_schema)
    try:
        consumer.assign(partitions)
        begin = await consumer.beginning_offsets(partitions)
        end = await consumer.end_offsets(partitions)
        for partition in partitions:
            consumer.seek(partition, begin[partition])
        async with conn.transaction():
            await conn.execute("TRUNCATE " + ", ".join(READ_MODEL_TABLES))
            await conn.execute("DELETE FROM inbox WHERE consumer = $1", settings.service_name)
            async with tips_tallied_at_the_end(conn):
                applied, skipped = await _apply_all(
                    consumer, conn, Inbox(settings.service_name), begin, end, progress
                )
    finally:
        await conn.close()
        await consumer.stop()
    return ReplayResult(applied, skipped, time.monotonic() - started)


async def _apply_all(
    consumer: AIOKafkaConsumer, conn: Connection, inbox: Inbox,
    begin: dict[TopicPartition, int], end: dict[TopicPartition, int], progress: Progress | None,
) -> tuple[int, int]:  # fmt: skip
    total = sum(end[tp] - begin[tp] for tp in end)
    position = dict(begin)
    last_progress = time.monotonic()
    writes = _WritesBehindReads(conn, inbox)
    try:
        while any(position[tp] < end[tp] for tp in end):
            pending = [tp for tp in end if position[tp] < end[tp]]
            batches = await consumer.getmany(*pending, timeout_ms=500)
            values = []
            for tp, records in batches.items():
                values += [record.value or b"" for record in records if record.offset < end[tp]]
                position[tp] = min(end[tp], await consumer.position(tp))
            await writes.apply(len(values), _readable(values))
            if batches:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > STALL_SECONDS:
                raise ReplayRefused(
                    f"the broker stopped giving records before the end of {pending}"
                )
            if progress:
                progress(sum(position[tp] - begin[tp] for tp in end), total)
        await writes.settle()
    except BaseException:
        await writes.abandon()
        raise
    if progress:
        progress(total, total)
    return writes.applied, writes.skipped


class _WritesBehindReads:
    """Batches applied in order, one at a time on the one connection, each while the next is
    fetched and read: the database's time and the replay's own overlap."""

    def __init__(self, conn: Connection, inbox: Inbox) -> None:
        self.conn, self.inbox = conn, inbox
        self.applied = self.skipped = 0
        self._writing: asyncio.Task[int] | None = None
        self._read = 0

    async def apply(self, read: int, events: list[ReadEvent]) -> None:
        """Once the batch before has been applied: `events`, of the `read` records fetched."""
        await self.settle()
        self._writing = asyncio.create_task(_apply_batch(self.conn, self.inbox, events))
        self._read = read

    async def settle(self) -> None:
        if self._writing is not None:
            done = await self._writing
            self._writing = None
            self.applied, self.skipped = self.applied + done, self.skipped + self._read - done

    async def abandon(self) -> None:
        """Nothing may go on writing once the replay's transaction is given up."""
        if self._writing is not None:
            self._writing.cancel()
            await asyncio.gather(self._writing, return_exceptions=True)


def _readable(values: list[bytes]) -> list[ReadEvent]:
    """What the live consumer would apply: not the unreadable (it was dead-lettered), nor types
    reports has no effect for."""
    events = []
    for value in values:
        with contextlib.suppress(ValidationError):
            event = read_event(value)
            if event.type in BATCH_EFFECTS:
                events.append(event)
    return events


async def _apply_batch(conn: Connection, inbox: Inbox, events: list[ReadEvent]) -> int:
    """As the live consumer would, a fetched batch at once, skipping the repeated (the inbox).
    Should the batch fail, event by event, so that only the failing one is left out. Returns
    how many took effect."""
    if not events:
        return 0
    try:
        async with conn.transaction():  # a savepoint: a failure undoes this batch only
            return await apply_batch(conn, inbox, BATCH_EFFECTS, events)
    except (asyncpg.PostgresError, ValueError):
        return sum([await _apply(conn, inbox, event) for event in events])


async def _apply(conn: Connection, inbox: Inbox, event: ReadEvent) -> bool:
    """One event; a failing effect leaves nothing behind."""
    try:
        async with conn.transaction():  # a savepoint: a failure undoes this event only
            if not await inbox.claim(conn, event.id):
                return False
            await EFFECTS[event.type](conn, event)
    except (asyncpg.PostgresError, ValueError) as error:
        log.warning("replay skipped %s %s (the live consumer dead-letters it): %s",
                    event.type, event.id, error)  # fmt: skip
        return False
    return True


async def _partitions_when_idle(
    settings: ReportsSettings, topics: tuple[str, ...]
) -> list[TopicPartition]:
    """The partitions of `topics`; refuses while the service's consumer group has members."""
    group = settings.consumer_group(settings.service_name)
    admin = AIOKafkaAdminClient(**settings.kafka.client_options())
    await admin.start()
    try:
        described = await admin.describe_consumer_groups([group])
        found = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    for response in described:
        for _error, group_id, state, *_rest in getattr(response, "groups", ()):
            if group_id == group and state not in ("Empty", "Dead", ""):
                raise ReplayRefused(
                    f"reports is still consuming (consumer group {group} is {state}): stop the "
                    "reports service, replay, then start it again"
                )
    return [
        TopicPartition(topic["topic"], partition["partition"])
        for topic in found
        if topic["error_code"] == 0
        for partition in sorted(topic["partitions"], key=lambda p: p["partition"])
    ]
