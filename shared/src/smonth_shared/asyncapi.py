"""The AsyncAPI 3.0 document of a service, generated from the event contract in `events.py`."""

from collections.abc import Sequence
from typing import Any

from smonth_shared.events import (
    ALL_TOPICS,
    AUTHENTICATED_AT,
    AUTHENTICATED_SYSTEM,
    DEADLETTER,
    EVENT_TYPES,
    INBOUND,
    INBOUND_REDRIVEN,
    INTERNAL_TOPICS,
    Envelope,
    InboundEnvelope,
)

REF_TEMPLATE = "#/components/schemas/{model}"


def asyncapi_document(
    service: str, *, consumes: Sequence[str], publishes: Sequence[str]
) -> dict[str, Any]:
    every_topic = (*ALL_TOPICS, *INTERNAL_TOPICS)
    known = {topic.name for topic in every_topic}
    if unknown := (set(consumes) | set(publishes)) - known:
        raise ValueError(f"not topics of the contract: {sorted(unknown)}")
    schemas: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    by_topic: dict[str, list[str]] = {name: [] for name in known}
    for event_type, (payload_model, topic) in EVENT_TYPES.items():
        message_id = _message_id(event_type)
        messages[message_id] = _message(
            event_type, (payload_model.__doc__ or "").strip() or event_type,
            _envelope_schema(Envelope, schemas, payload=_schema(payload_model, schemas),
                             event_type=event_type),
        )  # fmt: skip
        by_topic[topic.name].append(message_id)
    messages["inbound_submission"] = _message(
        "inbound submission",
        (InboundEnvelope.__doc__ or "").strip(),
        _schema(InboundEnvelope, schemas),
    )
    messages["inbound_submission"]["headers"]["required"] = ["authorization"]
    messages["inbound_submission"]["headers"]["properties"]["authorization"] = {
        "type": "string", "pattern": "^Bearer [A-Za-z0-9_.-]+$",
        "description": "The sending system's access token (client-credentials grant, "
        "POST /v1/oauth/token on intake). Without one, with another system's token (its "
        "`client:<id>` subject not the envelope's `source`), or with a `subject` the system is "
        "not registered for, the envelope goes to smonth.deadletter.v1 with the reason.",
    }  # fmt: skip
    by_topic[INBOUND.name].append("inbound_submission")
    authenticated = {
        AUTHENTICATED_SYSTEM: {"type": "string", "description": "The ministry system whose token "
                               "intake had verified before refusing the envelope."},
        AUTHENTICATED_AT: {"type": "string", "format": "date-time",
                           "description": "When that token was checked (the record's append time)."},
    }  # fmt: skip
    messages["redriven_submission"] = _message(
        "re-driven inbound submission",
        "A ministry system's dead-lettered envelope, re-driven by the operator (the only writer) "
        "without its token: intake applies it as the authenticated system's if the registry "
        "still has that system active and registered for the subject.",
        _schema(InboundEnvelope, schemas),
    )
    messages["redriven_submission"]["headers"]["required"] = [AUTHENTICATED_SYSTEM]
    messages["redriven_submission"]["headers"]["properties"].update(authenticated)
    by_topic[INBOUND_REDRIVEN.name].append("redriven_submission")
    messages["dead_letter"] = {
        "name": "dead letter",
        "summary": "The refused message, unchanged, with the reason in headers.",
        "headers": {"type": "object", "properties": {
            "error": {"type": "string", "description": "Why it was refused."},
            "error-source": {"type": "string", "description": "The service that refused it."},
            "original-topic": {"type": "string"},
            **authenticated,
        }},
        "payload": {},
    }  # fmt: skip
    by_topic[DEADLETTER.name].append("dead_letter")
    wanted = [t for t in every_topic if t.name in set(consumes) | set(publishes)]
    channels = {
        topic.name: {
            "address": topic.name,
            "description": f"key: subject; {topic.partitions} partitions"
            + (", compacted" if topic.compacted else ""),
            "messages": {m: {"$ref": f"#/components/messages/{m}"} for m in by_topic[topic.name]},
        }
        for topic in wanted
    }
    operations = {
        f"{action}_{name}": {"action": action, "channel": {"$ref": f"#/channels/{name}"}}
        for action, names in (("receive", consumes), ("send", publishes))
        for name in names
    }
    return {
        "asyncapi": "3.0.0",
        "info": {"title": f"safety-month {service}", "version": "1"},
        "defaultContentType": "application/json",
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def _message_id(event_type: str) -> str:
    return event_type.replace(".", "_").replace("-", "_")


def _message(name: str, summary: str, payload: dict[str, Any]) -> dict[str, Any]:
    event_type = payload.get("properties", {}).get("type", {}).get("const")
    return {
        "name": name,
        "title": name,
        "summary": summary,
        "contentType": "application/json",
        "headers": {"type": "object", "properties": {
            "traceparent": {"type": "string", "description": "W3C trace context"},
            "event-type": {"const": event_type} if event_type else {"type": "string"},
        }},
        "payload": payload,
    }  # fmt: skip


def _schema(model: Any, schemas: dict[str, Any]) -> dict[str, Any]:
    """The model's schema; the models it refers to go to components.schemas, where refs resolve."""
    schema = model.model_json_schema(ref_template=REF_TEMPLATE)
    schemas.update(schema.pop("$defs", {}))
    return schema


def _envelope_schema(
    model: Any, schemas: dict[str, Any], *, payload: dict[str, Any], event_type: str
) -> dict[str, Any]:
    envelope = _schema(model, schemas)
    return {**envelope, "properties": {**envelope["properties"], "type": {"const": event_type},
                                       "data": payload}}  # fmt: skip
