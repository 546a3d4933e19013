"""The public event contract (CONTRACT.md): the envelope, every payload, and the topic of each type.

The field descriptions feed the AsyncAPI documents; a change here is a contract change.
"""

from datetime import date, datetime
from typing import Annotated, Any, Literal, Protocol, Union
from uuid import UUID, uuid4

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PrivateAttr,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    create_model,
    model_validator,
)
from pydantic.config import JsonDict

from smonth_shared.campaign import PROVINCE_CODES

IndustryCode = Literal[
    "hazardous_chemicals",
    "mining",
    "industry_trade",
    "road_traffic",
    "construction",
    "fishing_vessels",
    "other",
]
PROVINCE_SCHEMA: JsonDict = {"enum": [*sorted(PROVINCE_CODES)], "examples": ["44", "11"]}
# The OpenAPI documents list the codes of the served campaign's registry (smonth_shared.openapi).
UnitCode = Annotated[
    str,
    Field(min_length=2, max_length=16, pattern=r"^[A-Za-z0-9_-]+$",
          description="A unit's code in the campaign's registry",
          json_schema_extra={"x-registry": "units"}),
]  # fmt: skip
ProvinceCode = Annotated[
    str,
    Field(pattern=r"^\d{2}$", description="GB/T 2260 province code (66 for the XPCC)",
          json_schema_extra=PROVINCE_SCHEMA),
]  # fmt: skip
Month = Annotated[str, Field(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="YYYY-MM")]


class Payload(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProgressReported(Payload):
    submission_id: UUID = Field(description="The snapshot's id in intake.")
    unit: UnitCode
    as_of: date = Field(description="The date the cumulative figures stand at.")
    revision: int = Field(ge=1, description="1 for a first snapshot of this date, then 2, 3...")
    indicators: dict[str, NonNegativeInt] = Field(
        description="Cumulative figures since the campaign started, by indicator code."
    )


class AttachedFile(Payload):
    filename: str
    content_type: str
    size: NonNegativeInt = Field(description="Bytes.")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    location: str = Field(description="Where intake keeps the bytes (blob store key).")


class SummarySubmitted(Payload):
    report_id: UUID
    unit: UnitCode
    title: str
    body: str
    received_at: AwareDatetime = Field(description="This submission's receipt, by the clock.")
    on_time: bool = Field(description="Whether the unit has an on-time receipt (kept once earned).")
    first_received_at: AwareDatetime = Field(description="The unit's first receipt.")
    file: AttachedFile | None = None


class LiaisonDesignated(Payload):
    unit: UnitCode
    name: str
    position: str
    office_phone: str
    mobile: str
    email: str
    designated_at: AwareDatetime


class MaterialSubmitted(Payload):
    material_id: UUID
    unit: UnitCode
    kind: Literal["practice", "video", "picture"]
    title: str
    description: str
    file: AttachedFile | None = None


class CaseReported(Payload):
    case_id: UUID
    province: ProvinceCode
    title: str
    industry: IndustryCode
    enterprise: str
    summary: str
    media_outlet: str
    published_on: date
    url: str


class CaseRejected(Payload):
    case_id: UUID
    province: ProvinceCode
    reason: str
    rejected_by: str


class TipReceived(Payload):
    """Never carries the tipster's name, phone or e-mail: those stay encrypted in intake."""

    tip_id: UUID
    province: ProvinceCode
    industry: IndustryCode
    category: Literal["major_hazard", "violation"]
    description: str
    city: str | None = None
    location: str | None = None
    enterprise: str | None = None
    occurred_on: date | None = None
    received_at: AwareDatetime
    named: bool = Field(description="Whether the tipster left contact details (not the details).")


class TipResolved(Payload):
    tip_id: UUID
    province: ProvinceCode
    industry: IndustryCode
    status: Literal["verified", "unfounded"]
    rectified: bool
    reward_paid: bool
    resolved_at: AwareDatetime


class MonthAssessed(Payload):
    province: ProvinceCode
    month: Month
    cases_counted: NonNegativeInt
    quota: NonNegativeInt
    status: Literal["met", "unmet", "missed"] = Field(
        description="met: quota reached; unmet: month still open and short; missed: closed short."
    )
    closed: bool = Field(description="Whether the month is over by the clock.")


class ReminderOutcome(Payload):
    reminder_id: UUID
    unit: UnitCode
    reason: Literal["liaison_missing", "summary_due", "exposure_quota"]
    occasion: str = Field(description="Which occasion of the reason, e.g. 'before', '2021-06'.")
    channel: Literal["email", "sms"]
    recipient: str
    attempts: int = Field(ge=1)
    error: str | None = None


class Artifact(Payload):
    format: Literal["json", "xlsx", "csv", "html", "pdf"]
    url: str
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    size: NonNegativeInt


class NationalSummaryPublished(Payload):
    campaign: str
    as_of: AwareDatetime
    trigger: str = Field(description="on_demand, month_end:YYYY-MM or after_deadline")
    artifacts: list[Artifact]


RevocationReason = Literal["withdrawn", "signed-out", "password-changed", "liaison-replaced"]


class AccessRevoked(Payload):
    """Behind the contract (the internal access topic): tokens of `key` issued before
    `not_before` are refused by every service from now on."""

    key: str = Field(max_length=80, description="sub:<subject> or session:<id>.")
    not_before: int = Field(ge=0, description="Unix seconds.")
    reason: RevocationReason


class Topic(BaseModel):
    """A topic of the contract: its shape, and who writes and reads it (the broker's ACLs are
    made from that: SYSTEMS are the ministry systems registered with the office)."""

    model_config = ConfigDict(frozen=True)

    name: str
    partitions: int = 12
    compacted: bool = False
    # The broker stamps each record as it appends it: the time a system's token is checked at.
    broker_timestamps: bool = False
    writers: tuple[str, ...] = ()
    readers: tuple[str, ...] = ()


SYSTEMS = "systems"
SERVICES = ("intake", "exposure", "notify", "reports")

PROGRESS = Topic(name="smonth.progress.v1", writers=("intake",), readers=("reports",))
SUMMARY = Topic(name="smonth.summary.v1", writers=("intake",), readers=("notify", "reports"))
LIAISON = Topic(name="smonth.liaison.v1", compacted=True, writers=("intake",),
                readers=("notify", "reports"))  # fmt: skip
MATERIAL = Topic(name="smonth.material.v1", writers=("intake",), readers=("reports",))
CASE = Topic(name="smonth.case.v1", writers=("intake", "exposure"),
             readers=("exposure", "reports"))  # fmt: skip
TIP = Topic(name="smonth.tip.v1", writers=("intake",), readers=("reports",))
COMPLIANCE = Topic(name="smonth.compliance.v1", writers=("exposure",),
                   readers=("notify", "reports"))  # fmt: skip
REMINDER = Topic(name="smonth.reminder.v1", writers=("notify",), readers=("reports",))
NATIONAL = Topic(name="smonth.national.v1", partitions=1, writers=("reports",))
INBOUND = Topic(name="smonth.inbound.v1", broker_timestamps=True, writers=(SYSTEMS,),
                readers=("intake",))  # fmt: skip
DEADLETTER = Topic(name="smonth.deadletter.v1", partitions=1, writers=SERVICES)
ALL_TOPICS = (
    PROGRESS, SUMMARY, LIAISON, MATERIAL, CASE, TIP, COMPLIANCE, REMINDER, NATIONAL, INBOUND,
    DEADLETTER,
)  # fmt: skip
# Behind the contract: who may no longer act (an account withdrawn, a session ended), read by
# every instance of every service.
ACCESS = Topic(name="smonth.access.v1", partitions=1, compacted=True, writers=("intake",),
               readers=SERVICES)  # fmt: skip
# Behind the contract: a ministry system's dead-lettered envelope the operator re-drives
# (`safety-month deadletters redrive`), with the system intake had authenticated when it
# refused it. Only the operator's principal may write it (a super user: no writer here), which
# is what lets intake take its AUTHENTICATED_SYSTEM header as the sender without a token.
INBOUND_REDRIVEN = Topic(name="smonth.inbound.redriven.v1", partitions=1, readers=("intake",))
INTERNAL_TOPICS = (ACCESS, INBOUND_REDRIVEN)
# Headers intake adds to the dead letter of an inbound envelope whose system it had verified
# (never the token itself): the system's id and when its token was checked (ISO 8601).
AUTHENTICATED_PREFIX = "smonth-authenticated-"
AUTHENTICATED_SYSTEM = f"{AUTHENTICATED_PREFIX}system"
AUTHENTICATED_AT = f"{AUTHENTICATED_PREFIX}at"

EVENT_TYPES: dict[str, tuple[type[Payload], Topic]] = {
    "progress.reported": (ProgressReported, PROGRESS),
    "summary.submitted": (SummarySubmitted, SUMMARY),
    "liaison.designated": (LiaisonDesignated, LIAISON),
    "material.submitted": (MaterialSubmitted, MATERIAL),
    "case.reported": (CaseReported, CASE),
    "case.rejected": (CaseRejected, CASE),
    "tip.received": (TipReceived, TIP),
    "tip.resolved": (TipResolved, TIP),
    "exposure.month-assessed": (MonthAssessed, COMPLIANCE),
    "reminder.sent": (ReminderOutcome, REMINDER),
    "reminder.failed": (ReminderOutcome, REMINDER),
    "national-summary.published": (NationalSummaryPublished, NATIONAL),
    "access.revoked": (AccessRevoked, ACCESS),
}
EventType = Literal[
    "progress.reported",
    "summary.submitted",
    "liaison.designated",
    "material.submitted",
    "case.reported",
    "case.rejected",
    "tip.received",
    "tip.resolved",
    "exposure.month-assessed",
    "reminder.sent",
    "reminder.failed",
    "national-summary.published",
    "access.revoked",
]


class Envelope(BaseModel):
    """Every message value on every topic: one event, its type and its subject (the Kafka key)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID = Field(description="Unique per event: consumers drop a repeat.")
    type: EventType = Field(description="What happened, e.g. tip.received.")
    version: Literal[1] = Field(default=1, description="The payload's schema version.")
    source: str = Field(
        min_length=1, max_length=64, description="intake, exposure... or the sending system's id."
    )
    time: AwareDatetime = Field(description="When it happened, RFC 3339 with offset.")
    campaign: str = Field(pattern=r"^\d{4}$", description="The campaign, e.g. 2021.")
    subject: str = Field(
        min_length=1, max_length=32, description="Unit or province code; also the Kafka key."
    )
    data: dict[str, Any] = Field(description="The payload of `type`.")
    # The payload validated with the envelope, so that a consumer does not validate it twice.
    _payload: Payload | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _data_matches_type(self, info: ValidationInfo) -> "Envelope":
        payload_model, _ = EVENT_TYPES[self.type]
        given = (info.context or {}).get("payload")
        if type(given) is payload_model:  # new_event's own payload: valid, and dumped as `data`
            self._payload = given
            return self
        try:
            self._payload = payload_model.model_validate(self.data)
        except ValidationError as error:
            raise ValueError(_nested_errors("data", error)) from None
        return self

    @property
    def topic(self) -> Topic:
        return EVENT_TYPES[self.type][1]

    def payload(self) -> Payload:
        if self._payload is None:
            self._payload = EVENT_TYPES[self.type][0].model_validate(self.data)
        return self._payload

    def to_bytes(self) -> bytes:
        return self.model_dump_json().encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> "Envelope":
        return cls.model_validate_json(raw)


class ReadEvent(Protocol):
    """An event as a consumer applies it: an Envelope, or what `read_event` gives."""

    @property
    def id(self) -> UUID: ...

    @property
    def type(self) -> EventType: ...

    @property
    def time(self) -> datetime: ...

    @property
    def campaign(self) -> str: ...

    @property
    def subject(self) -> str: ...

    def payload(self) -> Payload: ...


class _EnvelopeOfOneType(BaseModel):
    """The envelope with `data` read as its type's payload: validated in one pass of
    pydantic-core over the bytes, without the dict of `data` or a second validation."""

    model_config = Envelope.model_config

    def payload(self) -> Payload:
        return self.data  # type: ignore[attr-defined]  # the field each subclass gives


def _envelope_of(event_type: str, payload_model: type[Payload]) -> type[_EnvelopeOfOneType]:
    """Envelope's own fields (so that both accept the same), but `type` and `data` narrowed."""
    fields: dict[str, Any] = {name: (info.annotation, info)
                              for name, info in Envelope.model_fields.items()}  # fmt: skip
    fields["type"] = (Literal[event_type], Envelope.model_fields["type"])
    fields["data"] = (payload_model, Envelope.model_fields["data"])
    return create_model(  # type: ignore[call-overload]
        f"{payload_model.__name__}Envelope", __base__=_EnvelopeOfOneType, **fields
    )


_ONE_TYPE_ENVELOPES = tuple(_envelope_of(name, model) for name, (model, _) in EVENT_TYPES.items())
# Told apart by `type`: only the envelope of the event's own type is tried.
_ANY_ONE_TYPE_ENVELOPE: TypeAdapter[ReadEvent] = TypeAdapter(
    Annotated[Union[_ONE_TYPE_ENVELOPES], Field(discriminator="type")]  # type: ignore  # noqa: UP007
)


def read_event(raw: bytes) -> ReadEvent:
    """The event of a message value, for a consumer that reads every payload: what
    Envelope.from_bytes accepts, for a fraction of its cost. An invalid one is read again as
    Envelope, so that its ValidationError is the contract's own (`data.province: ...`)."""
    try:
        return _ANY_ONE_TYPE_ENVELOPE.validate_json(raw)
    except ValidationError:
        return Envelope.from_bytes(raw)


InboundType = Literal[
    "progress.reported", "summary.submitted", "liaison.designated", "case.reported",
    "tip.received", "tip.resolved",
]  # fmt: skip


class InboundEnvelope(BaseModel):
    """What a ministry system publishes on `smonth.inbound.v1`: the envelope of CONTRACT.md whose
    `data` is the body the matching HTTP endpoint takes; intake validates it exactly as over HTTP."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: UUID = Field(description="Unique per envelope: a repeat has one effect.")
    type: InboundType = Field(description="What the system submits, e.g. progress.reported.")
    version: Literal[1] = 1
    source: str = Field(min_length=1, max_length=64, description="The sending system's id.")
    time: AwareDatetime
    campaign: str = Field(pattern=r"^\d{4}$")
    subject: str = Field(min_length=1, max_length=32, description="The unit acted for; the key.")
    data: dict[str, Any] = Field(description="The request body of the matching HTTP endpoint.")

    @classmethod
    def from_bytes(cls, raw: bytes) -> "InboundEnvelope":
        return cls.model_validate_json(raw)


def new_event(
    payload: Payload,
    *,
    source: str,
    time: datetime,
    campaign: str,
    subject: str,
    event_type: EventType | None = None,
) -> Envelope:
    """Wrap a payload in a fresh envelope; the type follows from the payload's class unless given
    (one payload class serves both reminder.sent and reminder.failed)."""
    fields = {
        "id": uuid4(), "type": event_type or _type_of(payload), "source": source, "time": time,
        "campaign": campaign, "subject": subject, "data": payload.model_dump(mode="json"),
    }  # fmt: skip
    return Envelope.model_validate(fields, context={"payload": payload})


def _type_of(payload: Payload) -> EventType:
    matches = TYPES_OF_PAYLOAD.get(type(payload), [])
    if len(matches) != 1:
        raise ValueError(f"{type(payload).__name__} serves {matches}: name the event_type")
    return matches[0]  # type: ignore[return-value]


TYPES_OF_PAYLOAD: dict[type[Payload], list[str]] = {
    model: [name for name, (other, _) in EVENT_TYPES.items() if other is model]
    for model, _ in EVENT_TYPES.values()
}


def _nested_errors(prefix: str, error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in (prefix, *item['loc']))}: {item['msg']}"
        for item in error.errors()
    )
