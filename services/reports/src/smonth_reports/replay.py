"""Rebuilding reports' read model from the beginning of the topics.

A throwaway consumer (no group, so the service's committed offsets stay as they are) reads every
partition from its beginning to the end it had when the replay started, and applies each event
with the service's own effects (a fetched batch at a time, as the live consumer does), in ONE
transaction that first empties the read model: until it commits, the old read model stays whole,
and a failed replay changes nothing.

Tips received and resolved, nine in ten events of a month, are decoded with msgspec straight
into rows (smonth_reports.tip_events) and COPYed into temporary tables as they are read; once
everything is read, a few set-based statements apply them with the live consumer's rules: each
event claimed once in the inbox, a tip's first receipt kept, and of the outcomes that came after
it, the last. Inserted while the inbox's and the tips' indexes are set aside, and the indexes
built once after, their rows cost a fraction of the live batches' statements. Every other event,
and any that the fast decoding refuses, is read by the contract's models and applied a chunk of
fetches at a time, as the live consumer would.

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
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from pydantic import ValidationError

from smonth_reports.app import CONSUMED_TOPICS, MIGRATIONS
from smonth_reports.config import ReportsSettings
from smonth_reports.handlers import BATCH_EFFECTS, EFFECTS
from smonth_reports.repository import READ_MODEL_TABLES, tips_tallied_at_the_end
from smonth_reports.tip_events import RECEIVED_COLUMNS, RESOLVED_COLUMNS, tip_row
from smonth_shared.consumer import Inbox, apply_batch
from smonth_shared.db import Connection, connect, migrate
from smonth_shared.events import ReadEvent, read_event
from smonth_shared.runtime import freeze_start_up_objects
from smonth_shared.topics import ensure_topics

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]  # (offsets read, offsets to read)
STALL_SECONDS = 30.0
# Records read before a chunk is staged and applied: the fewer statements the better, but the
# last chunk is applied after the reading ends, with nothing to overlap it.
CHUNK_RECORDS = 20_000


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
    await _create_staging(conn)
    chunk = _Chunk()
    try:
        while any(position[tp] < end[tp] for tp in end):
            pending = [tp for tp in end if position[tp] < end[tp]]
            batches = await consumer.getmany(*pending, timeout_ms=500)
            for tp, records in batches.items():
                chunk.read([record.value or b"" for record in records if record.offset < end[tp]])
                position[tp] = min(end[tp], await consumer.position(tp))
            if chunk.records >= CHUNK_RECORDS:
                await writes.apply(chunk)
                chunk = _Chunk(chunk.seq)
            if batches:
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > STALL_SECONDS:
                raise ReplayRefused(
                    f"the broker stopped giving records before the end of {pending}"
                )
            if progress:
                progress(sum(position[tp] - begin[tp] for tp in end), total)
        await writes.apply(chunk)
        await writes.finish()
    except BaseException:
        await writes.abandon()
        raise
    if progress:
        progress(total, total)
    return writes.applied, writes.skipped


class _Chunk:
    """The records of some fetches: the tips' rows, and the other events read by the contract's
    models."""

    def __init__(self, seq: int = 0) -> None:
        self.seq = seq  # the order of the tips' rows, across chunks
        self.records = 0
        self.received: list[tuple[object, ...]] = []
        self.resolved: list[tuple[object, ...]] = []
        self.others: list[ReadEvent] = []

    def read(self, values: list[bytes]) -> None:
        self.records += len(values)
        for value in values:
            self.seq += 1
            tip = tip_row(value, self.seq)
            if tip is None:
                self.others += _readable([value])
            else:
                (self.received if tip[0] else self.resolved).append(tip[1])


class _WritesBehindReads:
    """Chunks applied in order, one at a time on the one connection, each while the next is
    fetched and read: the database's time and the replay's own overlap."""

    def __init__(self, conn: Connection, inbox: Inbox) -> None:
        self.conn, self.inbox = conn, inbox
        self.applied = self.skipped = 0
        self._writing: asyncio.Task[int] | None = None
        self._read = 0

    async def apply(self, chunk: _Chunk) -> None:
        """Once the chunk before has been applied: this one."""
        await self.settle()
        self._writing = asyncio.create_task(_apply_chunk(self.conn, self.inbox, chunk))
        self._read = chunk.records

    async def finish(self) -> None:
        """Once every chunk has been applied: the tips staged."""
        await self.settle()
        tips = await _apply_staged_tips(self.conn, self.inbox)
        self.applied, self.skipped = self.applied + tips, self.skipped - tips

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


async def _create_staging(conn: Connection) -> None:
    """The tips' rows, COPYed as they are read, without an index: read once, in full."""
    await conn.execute(
        "CREATE TEMPORARY TABLE replay_received (seq bigint, event_id uuid, tip_id uuid,"
        " campaign text, province text, industry text, category text, received_at timestamptz,"
        " named boolean) ON COMMIT DROP;"
        " CREATE TEMPORARY TABLE replay_resolved (seq bigint, event_id uuid, tip_id uuid,"
        " status text, rectified boolean, reward_paid boolean, resolved_at timestamptz)"
        " ON COMMIT DROP"
    )  # fmt: skip


async def _apply_chunk(conn: Connection, inbox: Inbox, chunk: _Chunk) -> int:
    """The chunk's events other than tips, as the live consumer would apply them; its tips'
    rows staged (_apply_staged_tips applies them). Returns how many took effect so far."""
    if chunk.received:
        await conn.copy_records_to_table(
            "replay_received", records=chunk.received, columns=RECEIVED_COLUMNS
        )
    if chunk.resolved:
        await conn.copy_records_to_table(
            "replay_resolved", records=chunk.resolved, columns=RESOLVED_COLUMNS
        )
    return await _apply_batch(conn, inbox, chunk.others)


# The staged tips, as apply_batch with BATCH_EFFECTS would have applied them in the order they
# were read (`seq`): an event claimed in the inbox once (a repeat, or an id an event of another
# type claimed, has no effect); a tip as its first receipt says (ON CONFLICT DO NOTHING), with
# the last of the outcomes read after that receipt (one read before it found no tip to change).
# In steps, each table analysed before it is joined, so that the planner knows how many rows
# there are (a million, not the 200 it assumes of a CTE). Valid rows break no constraint of
# these tables: a step fails only with the server, and the replay's transaction with it. A
# reading is its `seq` alone (one number each, across both tables): the joins hash a number.
CLAIM_STEPS = (
    "ANALYZE replay_received, replay_resolved",
    # Each event's first reading.
    "CREATE TEMPORARY TABLE replay_claims ON COMMIT DROP AS"
    " SELECT event_id, min(seq) AS seq FROM (SELECT event_id, seq FROM replay_received"
    " UNION ALL SELECT event_id, seq FROM replay_resolved) AS events GROUP BY event_id",
    # No ON CONFLICT: the replay's transaction alone writes this consumer's inbox rows (the
    # service is stopped), so those of the other events are all there is to pass over.
    "DELETE FROM replay_claims c USING inbox i WHERE i.consumer = $1 AND i.event_id = c.event_id",
    "ANALYZE replay_claims",
)
# Into the inbox and the tips without their indexes (_indexes_built_after): no order needed.
WRITE_STEPS = (
    "INSERT INTO inbox (consumer, event_id) SELECT $1, event_id FROM replay_claims",
    # Each tip's first receipt.
    "CREATE TEMPORARY TABLE replay_tips ON COMMIT DROP AS SELECT DISTINCT ON (r.tip_id) r.*"
    " FROM replay_received r JOIN replay_claims c ON c.seq = r.seq"
    " ORDER BY r.tip_id, r.seq",
    "ANALYZE replay_tips",
    """
    WITH outcomes AS (
        SELECT DISTINCT ON (o.tip_id) o.* FROM replay_resolved o
        JOIN replay_claims c ON c.seq = o.seq
        JOIN replay_tips t ON t.tip_id = o.tip_id AND t.seq < o.seq
        ORDER BY o.tip_id, o.seq DESC
    )
    INSERT INTO tips (tip_id, campaign, province, industry, category, received_at, named,
                      status, rectified, reward_paid, resolved_at)
    SELECT t.tip_id, t.campaign, t.province, t.industry, t.category, t.received_at, t.named,
           coalesce(o.status, 'received'), coalesce(o.rectified, false),
           coalesce(o.reward_paid, false), o.resolved_at
    FROM replay_tips t LEFT JOIN outcomes o ON o.tip_id = t.tip_id
    """,
)
# Each index and each unique or primary-key constraint of the tables, as the statements that
# drop it and make it again, from the catalog's own definitions (identifiers quoted by format).
INDEX_STATEMENTS = """
SELECT format('ALTER TABLE %s DROP CONSTRAINT %I', c.conrelid::regclass, c.conname),
       format('ALTER TABLE %s ADD CONSTRAINT %I %s', c.conrelid::regclass, c.conname,
              pg_get_constraintdef(c.oid))
FROM pg_constraint c
WHERE c.conrelid = ANY($1::text[]::regclass[]) AND c.contype IN ('p', 'u')
UNION ALL
SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
FROM pg_index i
WHERE i.indrelid = ANY($1::text[]::regclass[])
  AND NOT EXISTS (SELECT FROM pg_constraint c WHERE c.conindid = i.indexrelid)
"""


async def _apply_staged_tips(conn: Connection, inbox: Inbox) -> int:
    """CLAIM_STEPS, then WRITE_STEPS; returns how many events took effect."""
    # Their sorts, hashes and index builds take every tip of the topics: in memory, not on disk.
    await conn.execute("SET LOCAL work_mem = '128MB'; SET LOCAL maintenance_work_mem = '256MB'")
    await _run_steps(conn, inbox, CLAIM_STEPS)
    async with _indexes_built_after(conn, ("inbox", "tips")):
        await _run_steps(conn, inbox, WRITE_STEPS)
    claimed = await conn.fetchval("SELECT count(*) FROM replay_claims")
    if not isinstance(claimed, int):
        raise RuntimeError("count(*) is a number")
    return claimed


async def _run_steps(conn: Connection, inbox: Inbox, steps: tuple[str, ...]) -> None:
    """Each statement in turn; $1, where a statement has it, is the inbox's consumer."""
    for step in steps:
        await conn.execute(step, *((inbox.consumer,) if "$1" in step else ()))


@contextlib.asynccontextmanager
async def _indexes_built_after(conn: Connection, tables: tuple[str, ...]) -> AsyncIterator[None]:
    """Inside the replay's transaction, once nothing else writes these tables: their indexes
    dropped while the rows go in, and built again after, one sort each instead of an index entry
    a row (PostgreSQL's advice for a bulk load). Inbox 900,000 rows and tips 630,000: 5.9 s
    with the indexes (written in key order), 3.2 s without them and building them after. Should
    anything fail, the transaction's rollback brings the indexes back; a duplicate key fails the
    build, and the replay with it."""
    statements = await conn.fetch(INDEX_STATEMENTS, list(tables))
    for drop, _create in statements:
        await conn.execute(drop)
    yield
    for _drop, create in statements:
        await conn.execute(create)


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
