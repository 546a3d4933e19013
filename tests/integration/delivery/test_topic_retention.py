"""The project's topics keep every event: reports' replay rebuilds from their beginning."""

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from smonth_shared.kafka import KafkaAccess
from smonth_shared.topics import EVERY_TOPIC

pytestmark = pytest.mark.integration


async def test_no_event_topic_deletes_its_events_after_the_brokers_default_week(
    kafka: KafkaAccess,
) -> None:
    admin = AIOKafkaAdminClient(**kafka.client_options())
    await admin.start()
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, topic.name) for topic in EVERY_TOPIC]
        )
    finally:
        await admin.close()
    kept: dict[str, dict[str, str]] = {}
    for response in responses:
        for _error, _message, _kind, name, entries in response.resources:
            kept[name] = {entry[0]: entry[1] for entry in entries}
    assert set(kept) == {topic.name for topic in EVERY_TOPIC}
    for topic in EVERY_TOPIC:
        if topic.compacted:
            assert kept[topic.name]["cleanup.policy"] == "compact", topic.name
        else:
            assert kept[topic.name]["retention.ms"] == "-1", topic.name
