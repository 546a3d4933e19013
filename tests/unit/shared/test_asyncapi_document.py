"""The AsyncAPI document a service serves, generated from the event contract."""

from collections.abc import Iterator
from typing import Any

from smonth_shared.asyncapi import asyncapi_document
from smonth_shared.events import CASE, COMPLIANCE, DEADLETTER, INBOUND, NATIONAL, TIP

READS = [TIP.name, COMPLIANCE.name]
WRITES = [NATIONAL.name]


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("$ref"), str):
            yield node["$ref"]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _resolves(document: dict[str, Any], ref: str) -> bool:
    """A local JSON pointer, resolved from the document's root (as AsyncAPI tools do)."""
    node: Any = document
    for part in ref.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, dict) or part not in node:
            return False
        node = node[part]
    return True


def test_it_lists_a_channel_for_each_topic_consumed_or_published_and_no_other() -> None:
    document = asyncapi_document("reports", consumes=READS, publishes=WRITES)

    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "safety-month reports"
    assert list(document["channels"]) == [TIP.name, COMPLIANCE.name, NATIONAL.name]
    assert document["channels"][TIP.name]["address"] == TIP.name


def test_each_channel_names_the_messages_of_its_topic() -> None:
    document = asyncapi_document("exposure", consumes=[CASE.name], publishes=[CASE.name])
    channels = document["channels"]

    assert channels[CASE.name]["messages"] == {
        "case_reported": {"$ref": "#/components/messages/case_reported"},
        "case_rejected": {"$ref": "#/components/messages/case_rejected"},
    }
    assert channels[CASE.name]["description"] == "key: subject; 12 partitions"


def test_the_operations_say_which_topics_are_received_and_which_are_sent() -> None:
    operations = asyncapi_document("reports", consumes=READS, publishes=WRITES)["operations"]

    assert operations == {
        f"receive_{TIP.name}": {"action": "receive", "channel": {"$ref": f"#/channels/{TIP.name}"}},
        f"receive_{COMPLIANCE.name}": {
            "action": "receive", "channel": {"$ref": f"#/channels/{COMPLIANCE.name}"}
        },
        f"send_{NATIONAL.name}": {
            "action": "send", "channel": {"$ref": f"#/channels/{NATIONAL.name}"}
        },
    }  # fmt: skip


def test_a_message_carries_the_envelope_with_its_type_and_its_payload_schema() -> None:
    document = asyncapi_document("reports", consumes=READS, publishes=WRITES)
    messages = document["components"]["messages"]
    tip = messages["tip_received"]

    assert tip["name"] == "tip.received"
    assert tip["contentType"] == "application/json"
    assert tip["summary"].startswith("Never carries the tipster's name")
    assert tip["headers"]["properties"]["event-type"] == {"const": "tip.received"}
    payload = tip["payload"]
    assert payload["properties"]["type"] == {"const": "tip.received"}
    assert set(payload["required"]) >= {"id", "type", "source", "time", "campaign", "subject"}
    data = payload["properties"]["data"]
    assert data["properties"]["named"]["description"].startswith("Whether the tipster")
    assert "tipster_name" not in data["properties"]


def test_the_references_inside_payload_schemas_resolve_within_the_document() -> None:
    """Validators and code generators resolve `$ref` from the document's root: a nested model
    (AttachedFile, Artifact) must be reachable from there."""
    document = asyncapi_document("reports", consumes=[], publishes=[])

    broken = sorted({ref for ref in _refs(document["components"]) if not _resolves(document, ref)})

    assert broken == []


def test_every_operation_refers_to_a_channel_of_the_document() -> None:
    """intake reads smonth.inbound.v1 and every service writes smonth.deadletter.v1 (CONTRACT),
    topics that carry no event type of their own."""
    document = asyncapi_document(
        "intake", consumes=[INBOUND.name], publishes=[TIP.name, DEADLETTER.name]
    )

    assert [
        operation["channel"]["$ref"]
        for operation in document["operations"].values()
        if not _resolves(document, operation["channel"]["$ref"])
    ] == []
    assert list(document["channels"]) == [TIP.name, INBOUND.name, DEADLETTER.name]
