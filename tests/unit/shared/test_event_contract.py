"""The envelope and its payloads: what goes on the wire is exactly what comes off it."""

import json
from datetime import date, datetime, timedelta, timezone
from typing import get_args
from uuid import uuid4

import pytest
from pydantic import ValidationError

from smonth_shared.events import (
    EVENT_TYPES,
    AccessRevoked,
    Artifact,
    AttachedFile,
    CaseRejected,
    CaseReported,
    Envelope,
    EventType,
    LiaisonDesignated,
    MaterialSubmitted,
    MonthAssessed,
    NationalSummaryPublished,
    Payload,
    ProgressReported,
    ReminderOutcome,
    SummarySubmitted,
    TipReceived,
    TipResolved,
    new_event,
    read_event,
)

SHANGHAI = timezone(timedelta(hours=8))
AT = datetime(2021, 6, 16, 9, 30, tzinfo=SHANGHAI)
SHA = "ab" * 32
FILE = AttachedFile(
    filename="演练.pdf", content_type="application/pdf", size=1024, sha256=SHA, location="blob/1"
)

# One payload of every event type, with its subject.
SAMPLES: dict[str, tuple[Payload, str]] = {
    "progress.reported": (
        ProgressReported(submission_id=uuid4(), unit="44", as_of=date(2021, 6, 15), revision=1,
                         indicators={"study_sessions": 12, "drills": 0}),
        "44",
    ),
    "summary.submitted": (
        SummarySubmitted(report_id=uuid4(), unit="44", title="总结", body="全文", received_at=AT,
                         on_time=True, first_received_at=AT, file=FILE),
        "44",
    ),
    "liaison.designated": (
        LiaisonDesignated(unit="44", name="张三", position="科长", office_phone="020-1234567",
                          mobile="13800000000", email="z@example.cn", designated_at=AT),
        "44",
    ),
    "material.submitted": (
        MaterialSubmitted(material_id=uuid4(), unit="44", kind="video", title="视频",
                          description="安全宣传", file=None),
        "44",
    ),
    "case.reported": (
        CaseReported(case_id=uuid4(), province="44", title="曝光", industry="mining",
                     enterprise="某矿", summary="隐患", media_outlet="南方日报",
                     published_on=date(2021, 6, 10), url="https://example.cn/case"),
        "44",
    ),
    "case.rejected": (
        CaseRejected(case_id=uuid4(), province="44", reason="重复", rejected_by="staff"),
        "44",
    ),
    "tip.received": (
        TipReceived(tip_id=uuid4(), province="66", industry="construction",
                    category="major_hazard", description="脚手架", city="石河子",
                    occurred_on=date(2021, 6, 1), received_at=AT, named=True),
        "66",
    ),
    "tip.resolved": (
        TipResolved(tip_id=uuid4(), province="66", industry="construction", status="verified",
                    rectified=True, reward_paid=False, resolved_at=AT),
        "66",
    ),
    "exposure.month-assessed": (
        MonthAssessed(province="44", month="2021-06", cases_counted=3, quota=2, status="met",
                      closed=False),
        "44",
    ),
    "reminder.sent": (
        ReminderOutcome(reminder_id=uuid4(), unit="44", reason="summary_due", occasion="before",
                        channel="email", recipient="z@example.cn", attempts=1),
        "44",
    ),
    "reminder.failed": (
        ReminderOutcome(reminder_id=uuid4(), unit="44", reason="liaison_missing",
                        occasion="2021-06", channel="sms", recipient="13800000000", attempts=3,
                        error="gateway down"),
        "44",
    ),
    "national-summary.published": (
        NationalSummaryPublished(campaign="2021", as_of=AT, trigger="month_end:2021-06",
                                 artifacts=[Artifact(format="xlsx", url="https://x/y.xlsx",
                                                     sha256=SHA, size=10)]),
        "2021",
    ),
    "access.revoked": (
        AccessRevoked(key="sub:account:7", not_before=1623000000, reason="withdrawn"),
        "account:7",
    ),
}  # fmt: skip


def _event(event_type: str) -> Envelope:
    payload, subject = SAMPLES[event_type]
    return new_event(
        payload, source="intake", time=AT, campaign="2021", subject=subject,
        event_type=event_type if isinstance(payload, ReminderOutcome) else None,  # type: ignore[arg-type]
    )  # fmt: skip


def _valid_case_data() -> dict[str, object]:
    return SAMPLES["case.reported"][0].model_dump(mode="json")


def _envelope_fields(**changes: object) -> dict[str, object]:
    fields: dict[str, object] = {
        "id": str(uuid4()), "type": "case.reported", "source": "intake",
        "time": AT.isoformat(), "campaign": "2021", "subject": "44", "data": _valid_case_data(),
    }  # fmt: skip
    fields.update(changes)
    return fields


def test_the_samples_cover_every_event_type() -> None:
    assert set(SAMPLES) == set(EVENT_TYPES) == set(get_args(EventType))


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_every_event_type_round_trips_through_json(event_type: str) -> None:
    event = _event(event_type)

    again = Envelope.from_bytes(event.to_bytes())

    assert again == event
    assert again.type == event_type
    assert again.payload() == SAMPLES[event_type][0]
    assert again.topic == EVENT_TYPES[event_type][1]


@pytest.mark.parametrize("event_type", sorted(SAMPLES))
def test_a_consumer_reads_every_event_type_as_the_envelope_gives_it(event_type: str) -> None:
    event = _event(event_type)

    read = read_event(event.to_bytes())

    assert (read.id, read.type, read.time, read.campaign, read.subject) == (
        event.id, event.type, event.time, event.campaign, event.subject)  # fmt: skip
    assert read.payload() == SAMPLES[event_type][0]


@pytest.mark.parametrize(
    "fields",
    [
        _envelope_fields(data={**_valid_case_data(), "province": "4"}),
        _envelope_fields(type="tip.received"),
        _envelope_fields(type="case.invented"),
        _envelope_fields(campaign="21"),
    ],
)
def test_a_consumer_refuses_what_the_envelope_refuses_with_its_reasons(
    fields: dict[str, object],
) -> None:
    raw = json.dumps(fields).encode()
    with pytest.raises(ValidationError) as by_envelope:
        Envelope.from_bytes(raw)
    with pytest.raises(ValidationError) as by_consumer:
        read_event(raw)

    def reasons(error: ValidationError) -> list[tuple[object, str]]:
        return [(item["loc"], item["msg"]) for item in error.errors()]

    assert reasons(by_consumer.value) == reasons(by_envelope.value)


def test_the_wire_form_is_the_contracts_envelope() -> None:
    event = _event("tip.received")

    assert event.to_bytes().startswith(b'{"id":')
    wire = Envelope.model_validate_json(event.to_bytes()).model_dump(mode="json")
    assert set(wire) == {"id", "type", "version", "source", "time", "campaign", "subject", "data"}
    assert wire["version"] == 1
    assert wire["time"] == "2021-06-16T09:30:00+08:00"


def test_new_event_takes_the_type_from_the_payload_and_a_fresh_id() -> None:
    payload, _ = SAMPLES["case.rejected"]

    first = new_event(payload, source="exposure", time=AT, campaign="2021", subject="44")
    second = new_event(payload, source="exposure", time=AT, campaign="2021", subject="44")

    assert first.type == second.type == "case.rejected"
    assert first.id != second.id


def test_a_reminder_outcome_needs_its_event_type_named() -> None:
    payload, _ = SAMPLES["reminder.sent"]

    with pytest.raises(ValueError, match="name the event_type"):
        new_event(payload, source="notify", time=AT, campaign="2021", subject="44")
    failed = new_event(
        payload, source="notify", time=AT, campaign="2021", subject="44",
        event_type="reminder.failed",
    )  # fmt: skip
    assert failed.type == "reminder.failed"


def test_an_invalid_payload_is_refused_with_the_path_of_the_field() -> None:
    with pytest.raises(ValidationError) as refused:
        Envelope.model_validate(_envelope_fields(data={**_valid_case_data(), "province": "4"}))

    assert "data.province" in str(refused.value)


def test_a_payload_missing_a_field_names_it() -> None:
    data = _valid_case_data()
    del data["industry"]

    with pytest.raises(ValidationError, match=r"data\.industry: Field required"):
        Envelope.model_validate(_envelope_fields(data=data))


def test_a_payload_of_another_type_is_refused() -> None:
    tip = SAMPLES["tip.received"][0].model_dump(mode="json")

    with pytest.raises(ValidationError, match=r"data\.case_id"):
        Envelope.model_validate(_envelope_fields(data=tip))


def test_extra_fields_are_refused_in_the_payload_and_in_the_envelope() -> None:
    with pytest.raises(ValidationError, match=r"data\.tipster_phone: Extra inputs"):
        Envelope.model_validate(
            _envelope_fields(data={**_valid_case_data(), "tipster_phone": "13800000000"})
        )
    with pytest.raises(ValidationError, match=r"extra_forbidden|Extra inputs"):
        Envelope.model_validate(_envelope_fields(priority="high"))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"type": "case.invented"}, "type"),
        ({"version": 2}, "version"),
        ({"time": "2021-06-16T09:30:00"}, "time"),
        ({"campaign": "21"}, "campaign"),
        ({"subject": ""}, "subject"),
        ({"source": ""}, "source"),
    ],
)
def test_the_envelope_itself_is_validated(change: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as refused:
        Envelope.model_validate(_envelope_fields(**change))

    assert [error["loc"] for error in refused.value.errors()] == [(field,)]


def test_bytes_that_are_not_json_are_refused() -> None:
    with pytest.raises(ValidationError):
        Envelope.from_bytes(b"\x00 not json")


def test_payloads_are_frozen_and_strict_about_their_own_fields() -> None:
    payload, _ = SAMPLES["tip.resolved"]

    with pytest.raises(ValidationError):
        payload.status = "unfounded"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        TipResolved.model_validate({**payload.model_dump(), "status": "pending"})
