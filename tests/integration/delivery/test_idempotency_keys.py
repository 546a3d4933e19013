"""Idempotency-Key: the same key and body get the stored answer; another body gets 409."""

import asyncio

import asyncpg
import pytest

from smonth_shared.idempotency import Replay, remember, replay, request_hash
from smonth_shared.problems import Problem
from tests.integration.delivery.delivery_kit import eventually, someone_waits_for_an_advisory_lock

pytestmark = pytest.mark.integration

CALLER = "unit:44"
ANSWER = Replay(202, {"id": "7f0c", "receipt_code": "K3X9"})


async def _answer_once(pool: asyncpg.Pool, key: str, fingerprint: str) -> Replay | None:
    """What an endpoint does: replay a stored answer, or take effect and store the answer."""
    async with pool.acquire() as conn, conn.transaction():
        earlier = await replay(conn, CALLER, key, fingerprint)
        if earlier is None:
            await remember(conn, CALLER, key, fingerprint, ANSWER)
        return earlier


def test_the_fingerprint_is_of_the_path_and_the_body_whatever_the_key_order() -> None:
    body = {"province": "44", "title": "t", "nested": {"b": 1, "a": 2}}

    assert request_hash("/v1/cases", body) == request_hash(
        "/v1/cases", {"nested": {"a": 2, "b": 1}, "title": "t", "province": "44"}
    )
    assert request_hash("/v1/cases", body) != request_hash("/v1/tips", body)
    assert request_hash("/v1/cases", body) != request_hash("/v1/cases", {**body, "title": "u"})
    assert request_hash("/v1/cases", b"raw") == request_hash("/v1/cases", b"raw")


async def test_a_new_key_has_no_answer_yet(pool: asyncpg.Pool) -> None:
    assert await _answer_once(pool, "k-1", request_hash("/v1/tips", {"a": 1})) is None


async def test_the_same_key_and_body_get_the_stored_answer(pool: asyncpg.Pool) -> None:
    fingerprint = request_hash("/v1/tips", {"a": 1})
    await _answer_once(pool, "k-1", fingerprint)

    assert await _answer_once(pool, "k-1", fingerprint) == ANSWER


async def test_the_same_key_with_another_body_is_a_conflict(pool: asyncpg.Pool) -> None:
    await _answer_once(pool, "k-1", request_hash("/v1/tips", {"a": 1}))

    with pytest.raises(Problem) as refused:
        await _answer_once(pool, "k-1", request_hash("/v1/tips", {"a": 2}))

    assert refused.value.status == 409
    assert refused.value.title == "Idempotency-Key reused"


async def test_keys_belong_to_their_caller(pool: asyncpg.Pool) -> None:
    fingerprint = request_hash("/v1/tips", {"a": 1})
    await _answer_once(pool, "k-1", fingerprint)

    async with pool.acquire() as conn, conn.transaction():
        assert await replay(conn, "unit:45", "k-1", request_hash("/v1/tips", {"a": 9})) is None


async def test_an_answer_rolled_back_with_its_effect_is_not_replayed(pool: asyncpg.Pool) -> None:
    fingerprint = request_hash("/v1/tips", {"a": 1})
    with pytest.raises(RuntimeError):
        async with pool.acquire() as conn, conn.transaction():
            await replay(conn, CALLER, "k-1", fingerprint)
            await remember(conn, CALLER, "k-1", fingerprint, ANSWER)
            raise RuntimeError("the effect failed")

    assert await _answer_once(pool, "k-1", fingerprint) is None


async def test_a_retry_arriving_during_the_first_request_waits_for_its_answer(
    pool: asyncpg.Pool,
) -> None:
    fingerprint = request_hash("/v1/tips", {"a": 1})
    first_holds_the_key, first_may_finish = asyncio.Event(), asyncio.Event()

    async def first() -> None:
        async with pool.acquire() as conn, conn.transaction():
            assert await replay(conn, CALLER, "k-1", fingerprint) is None
            first_holds_the_key.set()
            await first_may_finish.wait()
            await remember(conn, CALLER, "k-1", fingerprint, ANSWER)

    first_task = asyncio.create_task(first())
    await first_holds_the_key.wait()
    retry = asyncio.create_task(_answer_once(pool, "k-1", fingerprint))
    await eventually(lambda: someone_waits_for_an_advisory_lock(pool), what="the retry waits")
    assert not retry.done()

    first_may_finish.set()
    await first_task

    assert await asyncio.wait_for(retry, 30) == ANSWER
