"""Every instance of every service keeps the list of withdrawn identities from the access topic.

The topic is compacted and small (one record per account, session or client ever withdrawn):
each instance reads all of it, without a consumer group, from the beginning at every start, and
is not ready until it has read up to the end it found, so that no instance takes a withdrawn
token after a restart.
"""

import asyncio
import logging

from aiokafka import AIOKafkaConsumer, TopicPartition

from smonth_shared.auth import Revocations
from smonth_shared.backoff import Backoff
from smonth_shared.events import ACCESS, AccessRevoked, Envelope
from smonth_shared.kafka import KafkaAccess
from smonth_shared.outbox import TRANSIENT_ERRORS

log = logging.getLogger(__name__)


class AccessFeed:
    def __init__(self, kafka: KafkaAccess, revocations: Revocations, *,
                 topic: str = ACCESS.name) -> None:  # fmt: skip
        self.kafka = kafka
        self.revocations = revocations
        self.topic = topic
        self.caught_up = asyncio.Event()

    async def run(self) -> None:
        backoff = Backoff()
        while True:
            try:
                await self._follow()
            except TRANSIENT_ERRORS as error:
                delay = backoff.next()
                log.warning("access list: broker not reachable (%s); retrying in %.1f s",
                            error, delay)  # fmt: skip
                await asyncio.sleep(delay)

    async def _follow(self) -> None:
        consumer = AIOKafkaConsumer(**self.kafka.client_options(), enable_auto_commit=False)
        try:
            await consumer.start()
            await consumer.topics()  # the cluster's metadata, with the access topic's partitions
            partitions = [TopicPartition(self.topic, p)
                          for p in sorted(consumer.partitions_for_topic(self.topic) or {0})]  # fmt: skip
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions)
            while True:
                batches = await consumer.getmany(timeout_ms=500, max_records=1000)
                for records in batches.values():
                    for record in records:
                        self._apply(record.value)
                positions = {p: await consumer.position(p) for p in ends}
                if not self.caught_up.is_set() and all(
                    positions[p] >= end for p, end in ends.items()
                ):
                    log.info("access list: %d withdrawn identities read", len(self.revocations))
                    self.caught_up.set()
        finally:
            await consumer.stop()

    def _apply(self, value: bytes | None) -> None:
        if value is None:
            return
        try:
            payload = Envelope.from_bytes(value).payload()
        except ValueError:
            log.warning("access list: a record that is no access event, skipped")
            return
        if isinstance(payload, AccessRevoked):
            self.revocations.revoke(payload.key, payload.not_before)
