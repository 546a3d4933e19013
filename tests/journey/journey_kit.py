"""What the journeys share beside their fixtures."""

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from smonth_shared.kafka import KafkaAccess
from tests.polling import eventually


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

        async def committed_everything() -> bool:
            committed = await admin.list_consumer_group_offsets(group)
            return all(end <= (committed[tp].offset if tp in committed else 0)
                       for tp, end in ends.items())  # fmt: skip

        await eventually(committed_everything, within=within, interval=0.2,
                         what=f"{group} caught up on {', '.join(topics)}")  # fmt: skip
    finally:
        await reader.stop()
        await admin.close()
