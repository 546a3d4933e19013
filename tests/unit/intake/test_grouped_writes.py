"""Writes of concurrent requests grouped into one statement (smonth_intake.grouped.Grouped)."""

import asyncio

import asyncpg
import pytest

from smonth_intake.grouped import Grouped


class Writes:
    """A statement that doubles each item and refuses the items in `bad`; while `held`, it runs
    until the test lets it finish (so what arrives meanwhile is known, however slow the machine)."""

    def __init__(self, bad: frozenset[int] = frozenset(), outage: bool = False,
                 held: bool = False) -> None:  # fmt: skip
        self.bad, self.outage = bad, outage
        self.statements: list[list[int]] = []
        self.running = asyncio.Event()
        self.may_finish = asyncio.Event()
        if not held:
            self.may_finish.set()

    async def __call__(self, items: list[int]) -> list[int]:
        self.statements.append(items)
        self.running.set()
        await self.may_finish.wait()
        if self.outage:
            raise asyncpg.CannotConnectNowError("the database system is starting up")
        if self.bad & set(items):
            raise asyncpg.UniqueViolationError("duplicate key value")
        return [item * 2 for item in items]


async def test_a_lone_request_is_written_at_once_and_alone() -> None:
    writes = Writes()
    grouped = Grouped("test", writes)

    assert await grouped(1) == 2
    assert writes.statements == [[1]]


async def test_requests_that_come_while_a_statement_runs_share_the_next_one() -> None:
    writes = Writes(held=True)
    grouped = Grouped("test", writes)

    first = asyncio.create_task(grouped(1))
    await writes.running.wait()
    others = [asyncio.create_task(grouped(n)) for n in range(2, 6)]
    await asyncio.sleep(0)  # each of them has put its item in
    writes.may_finish.set()
    results = await asyncio.gather(first, *others)

    assert results == [2, 4, 6, 8, 10]
    assert writes.statements == [[1], [2, 3, 4, 5]]


async def test_a_group_is_never_larger_than_one_statement_may_be() -> None:
    writes = Writes()
    grouped = Grouped("test", writes, most_in_one_statement=2)

    results = await asyncio.gather(*(grouped(n) for n in range(5)))

    assert results == [0, 2, 4, 6, 8]
    assert writes.statements == [[0, 1], [2, 3], [4]]


async def test_a_refused_group_is_written_again_one_by_one_so_only_the_faulty_request_fails() -> (
    None
):
    writes = Writes(bad=frozenset({3}))
    grouped = Grouped("test", writes)

    results = await asyncio.gather(*(grouped(n) for n in range(1, 5)), return_exceptions=True)

    assert results[:2] == [2, 4] and results[3] == 8
    assert isinstance(results[2], asyncpg.UniqueViolationError)
    assert writes.statements == [[1, 2, 3, 4], [1], [2], [3], [4]]


async def test_in_an_outage_every_request_of_the_group_fails_without_a_retry_each() -> None:
    writes = Writes(outage=True)
    grouped = Grouped("test", writes)

    results = await asyncio.gather(*(grouped(n) for n in range(3)), return_exceptions=True)

    assert all(isinstance(r, asyncpg.CannotConnectNowError) for r in results)
    assert writes.statements == [[0, 1, 2]]


async def test_a_request_given_up_on_leaves_its_item_in_the_group_and_the_others_their_answer() -> (
    None
):
    writes = Writes(held=True)
    grouped = Grouped("test", writes)
    given_up = asyncio.create_task(grouped(1))
    others = asyncio.gather(grouped(2), grouped(3))
    await writes.running.wait()

    given_up.cancel()
    writes.may_finish.set()

    assert await others == [4, 6]
    with pytest.raises(asyncio.CancelledError):
        await given_up
    assert writes.statements == [[1, 2, 3]]


async def test_after_a_group_the_next_request_starts_a_statement_of_its_own() -> None:
    writes = Writes()
    grouped = Grouped("test", writes)

    assert await asyncio.gather(grouped(1), grouped(2)) == [2, 4]
    assert await grouped(3) == 6
    assert writes.statements == [[1, 2], [3]]
