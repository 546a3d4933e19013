"""The outbox and its relay: committed events reach the broker, in order per key, exactly when
their state was committed, whatever the broker's mood."""

import asyncio
import logging
from collections import defaultdict
from dataclasses import replace

import asyncpg
import pytest

from smonth_shared.events import Envelope
from smonth_shared.kafka import KafkaAccess
from smonth_shared.outbox import pending_count
from tests.integration.delivery.delivery_kit import (
    PARTITIONS,
    add_events,
    case_event,
    commit_events,
    event_ids,
    eventually,
    read_to_end,
    read_topic,
    someone_waits_for_an_advisory_lock,
    unpublished,
)

pytestmark = pytest.mark.integration

KEYS = ("11", "12", "13")
UNREACHABLE = "127.0.0.1:1"


async def test_a_backlog_sent_two_batches_at_a_time_keeps_the_order_per_key_and_sends_each_once(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay
) -> None:
    """The relay hands a batch to the producer while the one before awaits its acknowledgements."""
    events = [case_event(KEYS[n % 3], f"{KEYS[n % 3]}#{n:03}") for n in range(120)]
    await commit_events(pool, topic, *events)
    start_relay(batch_size=8)

    await eventually(lambda: _all_published(pool), what="every row is marked published")
    records = await read_to_end(kafka, topic, PARTITIONS)
    assert sorted(event_ids(records)) == sorted(event.id for event in events)
    titles_by_key: dict[bytes, list[str]] = defaultdict(list)
    for record in records:
        titles_by_key[record.key].append(Envelope.from_bytes(record.value).data["title"])
    assert {key.decode(): titles for key, titles in titles_by_key.items()} == {
        key: [event.data["title"] for event in events if event.subject == key] for key in KEYS
    }


async def test_events_committed_with_their_state_are_published_in_order_per_key(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay
) -> None:
    events = [case_event(KEYS[n % 3], f"{KEYS[n % 3]}#{n:02}") for n in range(50)]
    start_relay(batch_size=7)

    for first in range(0, 50, 10):
        await commit_events(pool, topic, *events[first : first + 10])
    records = await read_topic(kafka, topic, PARTITIONS, until=lambda r: len(r) >= 50)

    titles_by_key: dict[bytes, list[str]] = defaultdict(list)
    for record in records:
        titles_by_key[record.key].append(Envelope.from_bytes(record.value).data["title"])
    assert {key.decode(): titles for key, titles in titles_by_key.items()} == {
        key: [event.data["title"] for event in events if event.subject == key] for key in KEYS
    }
    await eventually(lambda: _all_published(pool), what="every row is marked published")


async def test_a_record_carries_the_event_unchanged_with_its_headers(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay
) -> None:
    event = case_event("44", "headers")
    start_relay()

    await commit_events(pool, topic, event)
    [record] = await read_topic(kafka, topic, PARTITIONS, until=bool)

    assert record.key == b"44"
    assert record.value == event.to_bytes()
    assert dict(record.headers) == {"content-type": b"application/json",
                                    "event-type": b"case.reported"}  # fmt: skip


async def test_a_rolled_back_transaction_publishes_nothing(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay
) -> None:
    abandoned = [case_event("44", "abandoned") for _ in range(3)]
    marker = case_event("44", "committed later")
    start_relay()

    with pytest.raises(RuntimeError, match="changed my mind"):
        async with pool.acquire() as conn, conn.transaction():
            await add_events(conn, topic, *abandoned)
            raise RuntimeError("changed my mind")
    await commit_events(pool, topic, marker)
    # Published in order: once the later event is there, an earlier one would be too.
    records = await read_topic(kafka, topic, PARTITIONS, until=lambda r: marker.id in event_ids(r))

    assert event_ids(records) == [marker.id]
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1


async def test_a_later_transaction_never_overtakes_an_earlier_one_still_open(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay
) -> None:
    earlier, later = case_event("44", "written first"), case_event("44", "committed first")
    start_relay()

    async with pool.acquire() as conn, conn.transaction():
        await add_events(conn, topic, earlier)
        await commit_events(pool, topic, later)
        # The relay is looking for rows to send while the earlier one is still open.
        await eventually(lambda: someone_waits_for_an_advisory_lock(pool),
                         what="the relay asks for the writers' lock")  # fmt: skip
    records = await read_topic(kafka, topic, PARTITIONS, until=lambda r: len(r) >= 2)

    assert event_ids(records) == [earlier.id, later.id]


async def test_a_writer_long_in_flight_holds_back_neither_the_other_writers_nor_their_order(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay
) -> None:
    """The relay waits for the writers in flight behind a lock they share; new writers queue
    behind its request, so it gives way after a moment instead of stalling them too."""
    slow, quick = case_event("44", "long in flight"), case_event("44", "written meanwhile")
    start_relay()

    async with pool.acquire() as conn, conn.transaction():
        await add_events(conn, topic, slow)
        await eventually(lambda: someone_waits_for_an_advisory_lock(pool),
                         what="the relay asks for the writers' lock")  # fmt: skip
        # Without the relay's lock timeout this never ends: the quick writer queues behind the
        # relay, which waits for the slow writer, which waits for the quick one.
        await asyncio.wait_for(commit_events(pool, topic, quick), timeout=30)
    records = await read_topic(kafka, topic, PARTITIONS, until=lambda r: len(r) >= 2)

    assert event_ids(records) == [slow.id, quick.id]


async def test_writes_succeed_while_the_broker_is_down_and_are_published_once_it_is_back(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    events = [case_event(key, f"during the outage {key}") for key in KEYS]
    _, cut_off = start_relay(replace(kafka, bootstrap_servers=UNREACHABLE))

    with caplog.at_level(logging.WARNING, logger="smonth_shared.outbox"):
        await commit_events(pool, topic, *events)
        await eventually(lambda: "retrying in" in caplog.text)
    assert await pending_count(pool) == 3
    cut_off.cancel()
    start_relay()

    records = await read_topic(kafka, topic, PARTITIONS, until=lambda r: len(r) >= 3)

    assert sorted(event_ids(records)) == sorted(event.id for event in events)
    await eventually(lambda: _all_published(pool), what="every row is marked published")


async def test_a_notification_wakes_the_relay_before_its_next_poll(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay
) -> None:
    """Needs a server of its own: another session's open transaction holds rows back (see the
    next test) until the next poll, a minute away here."""
    first, second = case_event("44", "first"), case_event("44", "second")
    start_relay(poll_interval=60.0)
    await commit_events(pool, topic, first)
    await eventually(lambda: _all_published(pool), what="every row is marked published")

    await commit_events(pool, topic, second)

    records = await read_topic(kafka, topic, PARTITIONS, until=lambda r: len(r) >= 2)
    assert event_ids(records) == [first.id, second.id]


async def test_an_open_transaction_elsewhere_on_the_server_does_not_hold_back_the_events(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, database_url: str, start_relay
) -> None:
    """The four services share one PostgreSQL server (and transaction ids are server-wide): a
    transaction of another service that stays open, writing a long report or left idle, must
    not stop this service's events."""
    event = case_event("44", "while another service works")
    elsewhere = await asyncpg.connect(database_url)
    try:
        await elsewhere.execute("CREATE TABLE public.report_rows (n int)")
        long_job = elsewhere.transaction()
        await long_job.start()
        await elsewhere.execute("INSERT INTO public.report_rows VALUES (1)")
        start_relay()

        await commit_events(pool, topic, event)
        records = await read_topic(kafka, topic, PARTITIONS, until=bool)

        await long_job.rollback()
    finally:
        await elsewhere.close()
    assert event_ids(records) == [event.id]


async def test_only_one_relay_leads_and_another_takes_over_when_it_stops(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay
) -> None:
    one, one_task = start_relay()
    other, other_task = start_relay()
    await eventually(lambda: one.is_leader or other.is_leader)
    leader, leader_task, standby = (
        (one, one_task, other) if one.is_leader else (other, other_task, one)
    )
    tried = standby.tries_to_lead
    await eventually(lambda: standby.tries_to_lead > tried + 1, what="the standby tries again")
    assert leader.is_leader and not standby.is_leader

    leader_task.cancel()
    await eventually(lambda: standby.is_leader)

    assert not leader.is_leader
    event = case_event("44", "after the takeover")
    await commit_events(pool, topic, event)
    records = await read_topic(kafka, topic, PARTITIONS, until=bool)
    assert event_ids(records) == [event.id]


async def test_a_relay_that_lost_its_lock_stops_leading_before_another_takes_over(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay
) -> None:
    """The advisory lock is the only thing that keeps per-key order: a relay whose lock session
    died (a network cut, an administrator) must stop publishing, even in the middle of a
    backlog, as another relay may take the lead at once."""
    events = [case_event("44", f"backlog {n:03}") for n in range(600)]
    await commit_events(pool, topic, *events)
    first, _ = start_relay(batch_size=1)
    await eventually(lambda: _some_published(pool))

    await pool.execute(
        "SELECT pg_terminate_backend(pid) FROM pg_locks"
        " WHERE locktype = 'advisory' AND granted AND database ="
        " (SELECT oid FROM pg_database WHERE datname = current_database())"
    )
    second, _ = start_relay(batch_size=1)
    await eventually(lambda: second.is_leader)

    assert await unpublished(pool, [event.id for event in events]) > 0
    await eventually(lambda: not first.is_leader, what="the relay without its lock stops leading")


async def test_rows_the_broker_acknowledged_are_marked_even_when_a_later_row_is_refused(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay
) -> None:
    """A row the broker will never take (bigger than a request may be) must not make the relay
    send the rows before it again and again."""
    before = [case_event("44", f"before {n}") for n in range(3)]
    await commit_events(pool, topic, *before)
    await pool.execute(
        "WITH added AS (INSERT INTO outbox (event_id, topic, key, event_type, value)"
        "   VALUES (gen_random_uuid(), $1, '44', 'case.reported', $2) RETURNING seq)"
        " INSERT INTO outbox_pending SELECT seq FROM added",
        topic,
        b"x" * 2_000_000,
    )
    start_relay()

    await eventually(lambda: _parked_and_published(pool, 3),
                     what="the refused row is parked and the acknowledged rows are marked")  # fmt: skip
    records = await read_to_end(kafka, topic, PARTITIONS)
    assert event_ids(records) == [event.id for event in before]


async def test_a_row_pending_again_after_the_relay_caught_up_is_published(
    pool: asyncpg.Pool, topic: str, kafka: KafkaAccess, start_relay
) -> None:
    """The relay reads on from the last row it sent while it has more to send; once caught up it
    looks from the first pending row again, so a row set pending again (an operator unparking
    it, say) below the ones it sent is not left behind."""
    events = [case_event("44", f"row {n}") for n in range(5)]
    start_relay(batch_size=2)
    await commit_events(pool, topic, *events)
    await eventually(lambda: _all_published(pool), what="every row is marked published")

    await pool.execute("INSERT INTO outbox_pending SELECT seq FROM outbox WHERE event_id = $1",
                       events[1].id)  # fmt: skip
    await commit_events(pool, topic, case_event("44", "later"))

    records = await read_topic(kafka, topic, PARTITIONS, until=lambda r: len(r) >= 7)
    assert event_ids(records).count(events[1].id) == 2
    await eventually(lambda: _all_published(pool), what="the row pending again is marked too")


async def _published(pool: asyncpg.Pool) -> int:
    return await pool.fetchval(
        "SELECT count(*) FROM outbox WHERE parked_reason IS NULL"
        " AND seq NOT IN (SELECT seq FROM outbox_pending)"
    )


async def _some_published(pool: asyncpg.Pool) -> bool:
    return await _published(pool) > 0


async def _published_exactly(pool: asyncpg.Pool, count: int) -> bool:
    return await _published(pool) == count


async def _parked_and_published(pool: asyncpg.Pool, count: int) -> bool:
    parked = await pool.fetchval("SELECT count(*) FROM outbox WHERE parked_reason IS NOT NULL")
    return parked == 1 and await _published_exactly(pool, count)


async def _all_published(pool: asyncpg.Pool) -> bool:
    return await pending_count(pool) == 0
