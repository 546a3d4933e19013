"""The replay's fast reading of tip events accepts no event the contract refuses, and reads each
one it accepts exactly as the contract's models do; what it refuses, those models judge."""

from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import uuid4

import msgspec
import orjson
import pytest
from pydantic import ValidationError

from smonth_reports.tip_events import (
    RECEIVED_COLUMNS,
    RESOLVED_COLUMNS,
    ReceivedData,
    ResolvedData,
    tip_row,
)
from smonth_shared.events import Envelope, TipReceived, TipResolved, new_event

AT = datetime(2021, 6, 16, 10, 0, 0, 123456, tzinfo=timezone(timedelta(hours=8)))


def received(**changes: Any) -> dict[str, Any]:
    tip = TipReceived(tip_id=uuid4(), province="44", industry="mining", category="violation",
                      description="车间消防通道被堵塞", city="广州", received_at=AT, named=True)  # fmt: skip
    return _envelope(tip, changes)


def resolved(**changes: Any) -> dict[str, Any]:
    outcome = TipResolved(tip_id=uuid4(), province="44", industry="mining", status="verified",
                          rectified=True, reward_paid=False, resolved_at=AT)  # fmt: skip
    return _envelope(outcome, changes)


def _envelope(payload: TipReceived | TipResolved, changes: dict[str, Any]) -> dict[str, Any]:
    event = new_event(payload, source="intake", time=AT, campaign="2021", subject="44")
    envelope = orjson.loads(event.to_bytes())
    for path, value in changes.items():
        *parents, name = path.split("__")
        target = envelope
        for parent in parents:
            target = target[parent]
        if value is DROP:
            del target[name]
        else:
            target[name] = value
    return envelope


DROP = object()


def contract_row(raw: bytes) -> tuple[object, ...] | None:
    """The row the contract's models make of the value, or None if they refuse it."""
    try:
        event = Envelope.from_bytes(raw)
    except ValidationError:
        return None
    data = event.payload().model_dump()
    if event.type == "tip.received":
        return (1, event.id, *(event.campaign if column == "campaign" else data[column]
                               for column in RECEIVED_COLUMNS[2:]))  # fmt: skip
    return (1, event.id, *(data[column] for column in RESOLVED_COLUMNS[2:]))


VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("as intake writes it", received()),
    ("resolved as intake writes it", resolved()),
    ("optional fields null", received(data__city=None, data__enterprise=None)),
    ("optional fields left out", received(data__city=DROP, data__occurred_on=DROP)),
    ("occurred on a date", received(data__occurred_on="2021-06-01")),
    ("UTC as Z", received(data__received_at="2021-06-16T02:00:00Z")),
    ("nanoseconds", received(data__received_at="2021-06-16T10:00:00.123456789+08:00")),
    ("no seconds", received(data__received_at="2021-06-16T10:00+08:00")),
    ("space for T", received(data__received_at="2021-06-16 10:00:00+08:00")),
    ("lower-case t and z", resolved(data__resolved_at="2021-06-16t02:00:00z")),
    ("naive time", received(data__received_at="2021-06-16T10:00:00")),
    ("February 30th", received(data__received_at="2021-02-30T10:00:00+08:00")),
    ("leap second", resolved(data__resolved_at="2021-06-30T23:59:60Z")),
    ("offset of a day", received(time="2021-06-16T10:00:00+24:00")),
    ("unix time", received(data__received_at=1623808800)),
    ("province of one digit", received(data__province="4")),
    ("province with a newline", received(data__province="44\n")),
    ("province in full-width digits", received(data__province="４４")),
    ("unknown industry", received(data__industry="fishing")),
    ("unknown status", resolved(data__status="pending")),
    ("a field too many", received(data__contact="13800000000")),
    ("envelope field too many", resolved(trace="x")),
    ("a field missing", resolved(data__rectified=DROP)),
    ("named as a string", received(data__named="true")),
    ("named as a number", received(data__named=1)),
    ("tip id without dashes", received(data__tip_id=uuid4().hex)),
    ("tip id in braces", received(data__tip_id="{" + str(uuid4()) + "}")),
    ("tip id not one", resolved(data__tip_id="not-a-uuid")),
    ("version 2", received(version=2)),
    ("version as a string", received(version="1")),
    ("campaign of two digits", received(campaign="21")),
    ("campaign with a newline", received(campaign="2021\n")),
    ("campaign in Arabic-Indic digits", received(campaign="٢٠٢١")),
    ("campaign a number", received(campaign=2021)),
    ("province of three digits", resolved(data__province="440")),
    ("province a number", resolved(data__province=44)),
    ("empty source", received(source="")),
    ("subject too long", received(subject="4" * 33)),
    ("description a number", received(data__description=7)),
    ("another type's payload", received(type="tip.resolved")),
]


@pytest.mark.parametrize(("envelope"), [v for _, v in VARIANTS], ids=[n for n, _ in VARIANTS])
def test_what_the_fast_reading_accepts_the_contract_accepts_and_reads_alike(
    envelope: dict[str, Any],
) -> None:
    raw = orjson.dumps(envelope)
    fast = tip_row(raw, 1)
    if fast is not None:
        assert fast[1] == contract_row(raw)


def test_the_events_intake_writes_are_read_fast() -> None:
    for envelope in (received(), resolved(), received(data__city=None, data__occurred_on=DROP)):
        assert tip_row(orjson.dumps(envelope), 1) is not None


def test_a_repeated_key_is_read_as_the_contract_reads_it_the_last_one() -> None:
    raw = orjson.dumps(received()).replace(b'"province":"44"', b'"province":"11","province":"44"')
    fast = tip_row(raw, 1)
    assert fast is not None and fast[1] == contract_row(raw)


def test_events_of_other_types_are_left_to_the_contract() -> None:
    envelope = received(type="case.rejected", data={"case_id": str(uuid4()), "province": "44",
                                                    "reason": "不实", "rejected_by": "44"})  # fmt: skip
    assert tip_row(orjson.dumps(envelope), 1) is None
    assert tip_row(b"not an event", 1) is None


@pytest.mark.parametrize(("fast", "contract"), [(ReceivedData, TipReceived),
                                                (ResolvedData, TipResolved)])  # fmt: skip
def test_the_structs_have_the_contracts_fields_and_defaults(fast: type, contract: type) -> None:
    """A field added to the contract must be added here too (it would be refused as unknown)."""
    fields = {field.name: field.required for field in msgspec.structs.fields(fast)}
    assert fields == {name: info.is_required() for name, info in contract.model_fields.items()}


def test_a_time_in_utc_is_the_same_instant() -> None:
    raw = orjson.dumps(received(data__received_at="2021-06-16T02:00:00.123456Z"))
    fast = tip_row(raw, 1)
    assert fast is not None
    assert fast[1][7] == datetime(2021, 6, 16, 2, 0, 0, 123456, tzinfo=UTC)
