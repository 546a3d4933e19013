"""What the journeys share beside their fixtures."""

import asyncio
import time
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from smonth_shared.kafka import KafkaAccess


async def caught_up(kafka: KafkaAccess, group: str, topics: tuple[str, ...], within: float) -> None:
    """Until `group` has committed every record now on `topics`: services share the test
    broker with earlier tests, whose events a fresh group first works through."""
    admin = AIOKafkaAdminClient(**kafka.client_options())
    reader = AIOKafkaConsumer(**kafka.client_options(), enable_auto_commit=False)
    await admin.start()
    await reader.start()
    try:
        described = await admin.describe_topics(list(topics))
        partitions = [TopicPartition(topic["topic"], partition["partition"])
                      for topic in described for partition in topic["partitions"]]  # fmt: skip
        assert partitions, f"no partitions found for {topics}"
        ends = await reader.end_offsets(partitions)
        deadline = time.monotonic() + within
        while True:
            committed = await admin.list_consumer_group_offsets(group)
            behind = {tp: end for tp, end in ends.items()
                      if end > (committed[tp].offset if tp in committed else 0)}  # fmt: skip
            if not behind:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{group} still behind on {sorted(map(str, behind))}")
            await asyncio.sleep(0.2)
    finally:
        await reader.stop()
        await admin.close()


def eventually(check: Callable[[], Any], *, timeout: float = 60.0) -> Any:
    """Polls until `check` returns something truthy; the system is eventually consistent."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout} s")
        time.sleep(0.2)
