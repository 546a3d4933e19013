"""OffsetCommits: processed offsets committed behind the consumer, the newest per partition, and
a failed commit logged, never raised (its events come again, and the inbox skips them)."""

import asyncio
import logging
from typing import cast

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.errors import CommitFailedError

from smonth_shared.consumer import OffsetCommits, Record


class Broker:
    """Stands for a consumer's group coordinator: records commits, slow or failing on demand."""

    def __init__(self) -> None:
        self.commits: list[dict[TopicPartition, int]] = []
        self.failures = 0
        self.release = asyncio.Event()
        self.release.set()

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        await self.release.wait()
        if self.failures:
            self.failures -= 1
            raise CommitFailedError("the group rebalanced")
        self.commits.append(dict(offsets))


def records(partition: int, *offsets: int) -> list[Record]:
    return [Record("t", partition, offset, None, b"{}") for offset in offsets]


def consumer(broker: Broker) -> AIOKafkaConsumer:
    return cast(AIOKafkaConsumer, broker)


async def test_what_is_processed_during_a_commit_goes_in_the_next_one() -> None:
    broker = Broker()
    commits = OffsetCommits("test")
    broker.release.clear()  # the first commit waits for the broker
    commits.processed(consumer(broker), records(0, 0, 1))
    await asyncio.sleep(0)
    commits.processed(consumer(broker), records(0, 2) + records(1, 7))
    commits.processed(consumer(broker), records(0, 3))
    broker.release.set()
    await commits.flush()

    assert broker.commits == [
        {TopicPartition("t", 0): 2},
        {TopicPartition("t", 0): 4, TopicPartition("t", 1): 8},
    ]


async def test_a_failed_commit_is_logged_and_the_next_batch_commits_again(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="smonth_shared.consumer")
    broker = Broker()
    broker.failures = 1
    commits = OffsetCommits("test consumer")
    commits.processed(consumer(broker), records(0, 0))
    await commits.flush()
    commits.processed(consumer(broker), records(0, 1))
    await commits.flush()

    assert "test consumer: offsets" in caplog.text and "not committed" in caplog.text
    assert broker.commits == [{TopicPartition("t", 0): 2}]


async def test_flush_returns_at_once_when_nothing_is_due() -> None:
    await asyncio.wait_for(OffsetCommits("test").flush(), 1)
