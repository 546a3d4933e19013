"""Creating the contract's topics with their partitions and retention, once, before services start."""

import logging

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from smonth_shared.events import ALL_TOPICS, Topic

log = logging.getLogger(__name__)


async def ensure_topics(
    bootstrap_servers: str, topics: tuple[Topic, ...] = ALL_TOPICS
) -> list[str]:
    """Creates what is missing; returns the names created. Existing topics are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in topics if topic.name not in existing]
        if missing:
            try:
                await admin.create_topics([_new_topic(topic) for topic in missing])
            except TopicAlreadyExistsError:
                log.info("topics created meanwhile by another process")
        return [topic.name for topic in missing]
    finally:
        await admin.close()


def _new_topic(topic: Topic) -> NewTopic:
    configs = {"cleanup.policy": "compact"} if topic.compacted else {}
    return NewTopic(topic.name, num_partitions=topic.partitions, replication_factor=1,
                    topic_configs=configs)  # fmt: skip
