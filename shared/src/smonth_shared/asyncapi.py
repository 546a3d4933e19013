"""The AsyncAPI 3.0 document of a service, generated from the event contract in `events.py`."""

from collections.abc import Sequence
from typing import Any

from smonth_shared.events import ALL_TOPICS, EVENT_TYPES, Envelope


def asyncapi_document(
    service: str, *, consumes: Sequence[str], publishes: Sequence[str]
) -> dict[str, Any]:
    envelope_schema = Envelope.model_json_schema()
    channels: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for event_type, (payload_model, topic) in EVENT_TYPES.items():
        payload = {
            **envelope_schema,
            "properties": {
                **envelope_schema["properties"],
                "type": {"const": event_type},
                "data": payload_model.model_json_schema(),
            },
        }
        message_id = event_type.replace(".", "_").replace("-", "_")
        messages[message_id] = {
            "name": event_type,
            "title": event_type,
            "summary": (payload_model.__doc__ or "").strip() or event_type,
            "contentType": "application/json",
            "headers": {
                "type": "object",
                "properties": {
                    "traceparent": {"type": "string", "description": "W3C trace context"},
                    "event-type": {"const": event_type},
                },
            },
            "payload": payload,
        }
        channel = channels.setdefault(
            topic.name,
            {"address": topic.name, "messages": {}, "description": f"key: subject; "
             f"{topic.partitions} partitions{', compacted' if topic.compacted else ''}"},
        )  # fmt: skip
        channel["messages"][message_id] = {"$ref": f"#/components/messages/{message_id}"}
    operations: dict[str, Any] = {}
    for action, topics in (("receive", consumes), ("send", publishes)):
        for name in topics:
            operations[f"{action}_{name}"] = {
                "action": action,
                "channel": {"$ref": f"#/channels/{name}"},
            }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"safety-month {service}", "version": "1"},
        "defaultContentType": "application/json",
        "channels": {name: channels[name] for name in _known(consumes, publishes, channels)},
        "operations": operations,
        "components": {"messages": messages},
    }


def _known(
    consumes: Sequence[str], publishes: Sequence[str], channels: dict[str, Any]
) -> list[str]:
    wanted = set(consumes) | set(publishes)
    return [t.name for t in ALL_TOPICS if t.name in wanted and t.name in channels]
