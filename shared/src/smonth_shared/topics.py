"""Creating the project's topics with their partitions and retention, once, before services start."""

import logging

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import (
    ClusterAuthorizationFailedError,
    TopicAlreadyExistsError,
    TopicAuthorizationFailedError,
)

from smonth_shared.events import ALL_TOPICS, INTERNAL_TOPICS, Topic
from smonth_shared.kafka import KafkaAccess

log = logging.getLogger(__name__)

EVERY_TOPIC = (*ALL_TOPICS, *INTERNAL_TOPICS)


async def ensure_topics(kafka: KafkaAccess, topics: tuple[Topic, ...] = EVERY_TOPIC) -> list[str]:
    """Creates what is missing; returns the names created. Existing topics are left as they are.

    On a cluster with ACLs only the operator's principal may create topics (a service sees only
    the topics it may use): a service's own attempt is then logged and left to the operator."""
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [topic for topic in topics if topic.name not in existing]
        if missing:
            try:
                await admin.create_topics([_new_topic(topic) for topic in missing])
            except TopicAlreadyExistsError:
                log.info("topics created meanwhile by another process")
            except (TopicAuthorizationFailedError, ClusterAuthorizationFailedError):
                log.info("%s may not create topics (%s): the operator's provisioning makes them",
                         kafka.principal, ", ".join(t.name for t in missing))  # fmt: skip
                return []
        return [topic.name for topic in missing]
    finally:
        await admin.close()


async def topic_partitions(kafka: KafkaAccess, names: tuple[str, ...]) -> list[TopicPartition]:
    """The partitions of the named topics as the broker has them (none of a topic not made yet)."""
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        described = await admin.describe_topics(list(names))
    finally:
        await admin.close()
    return [TopicPartition(topic["topic"], partition["partition"])
            for topic in described for partition in topic["partitions"]]  # fmt: skip


def topic_configs(topic: Topic) -> dict[str, str]:
    # Every event is kept: reports' replay rebuilds the read model from the topics' beginning, and
    # a broker's default retention (a week) would leave a rebuilt summary without the first weeks.
    configs = {"cleanup.policy": "compact"} if topic.compacted else {"retention.ms": "-1"}
    if topic.broker_timestamps:
        configs["message.timestamp.type"] = "LogAppendTime"
    return configs


def _new_topic(topic: Topic) -> NewTopic:
    return NewTopic(topic.name, num_partitions=topic.partitions, replication_factor=1,
                    topic_configs=topic_configs(topic))  # fmt: skip
