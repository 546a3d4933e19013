"""The tip events as a replay reads them: decoded with msgspec straight into the rows it writes.

Nine in ten events of a month are tips received or resolved, which reports only counts; reading
each into the contract's pydantic models was most of a replay's time. The structs below accept
no more than smonth_shared.events does (the same fields, none unknown, the same types and limits,
patterns if anything stricter); whatever they refuse is read again by the contract's models, which
decide, so that a valid event never goes unapplied because of this faster reading.
"""

import re
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Literal
from uuid import UUID

import msgspec

from smonth_shared.events import IndustryCode

# RFC 3339 with an offset, as a string that _instant reads: msgspec's own datetimes round digits
# past the microsecond where pydantic's drop them, and a tip must land in the same quarter hour.
# Matched here rather than by msgspec.Meta(pattern=...), which took 0.5 µs a time (twice an
# event) where the compiled pattern's match takes 0.2.
AwareDatetime = str
_AWARE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,6})?"
    r"(Z|[+-][0-9]{2}:[0-9]{2})\Z"
)
# The contract's patterns are `^\d{2}$` and `^\d{4}$`; every string of two (four) ASCII digits,
# and nothing else, refuses a trailing newline and other scripts' digits, which the contract's
# models then judge. As literals they are looked up where a pattern would run a regex for each
# event: a replay reads a million.
if TYPE_CHECKING:  # a literal made at run time is no type to a checker: strings they are
    ProvinceCode = str
    CampaignYear = str
else:
    ProvinceCode = Literal[tuple(f"{number:02d}" for number in range(100))]
    CampaignYear = Literal[tuple(f"{number:04d}" for number in range(10_000))]
Source = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Subject = Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class _Strict(msgspec.Struct, forbid_unknown_fields=True):
    """The fields with a default last: their order means nothing in JSON."""


class ReceivedData(_Strict):
    """smonth_shared.events.TipReceived."""

    tip_id: UUID
    province: ProvinceCode
    industry: IndustryCode
    category: Literal["major_hazard", "violation"]
    description: str
    received_at: AwareDatetime
    named: bool
    city: str | None = None
    location: str | None = None
    enterprise: str | None = None
    occurred_on: date | None = None


class ResolvedData(_Strict):
    """smonth_shared.events.TipResolved."""

    tip_id: UUID
    province: ProvinceCode
    industry: IndustryCode
    status: Literal["verified", "unfounded"]
    rectified: bool
    reward_paid: bool
    resolved_at: AwareDatetime


class _Envelope(_Strict, tag_field="type"):
    """smonth_shared.events.Envelope, `type` being the tag."""

    id: UUID
    source: Source
    time: AwareDatetime
    campaign: CampaignYear
    subject: Subject
    version: Literal[1] = 1


class Received(_Envelope, tag="tip.received", kw_only=True):
    data: ReceivedData

    def row(self, seq: int) -> tuple[object, ...]:
        """As RECEIVED_COLUMNS; ValueError for a date or time that does not exist."""
        tip = self.data
        _instant(self.time)
        return (seq, self.id, tip.tip_id, self.campaign, tip.province, tip.industry,
                tip.category, _instant(tip.received_at), tip.named)  # fmt: skip


class Resolved(_Envelope, tag="tip.resolved", kw_only=True):
    data: ResolvedData

    def row(self, seq: int) -> tuple[object, ...]:
        """As RESOLVED_COLUMNS; ValueError for a date or time that does not exist."""
        outcome = self.data
        _instant(self.time)
        return (seq, self.id, outcome.tip_id, outcome.status, outcome.rectified,
                outcome.reward_paid, _instant(outcome.resolved_at))  # fmt: skip


RECEIVED_COLUMNS = ("seq", "event_id", "tip_id", "campaign", "province", "industry", "category",
                    "received_at", "named")  # fmt: skip
RESOLVED_COLUMNS = ("seq", "event_id", "tip_id", "status", "rectified", "reward_paid",
                    "resolved_at")  # fmt: skip

_DECODER = msgspec.json.Decoder(Received | Resolved)


def tip_row(raw: bytes, seq: int) -> tuple[bool, tuple[object, ...]] | None:
    """Whether the message value is a tip received (or resolved), and its row with `seq`; None
    for any other value (another type, or one these structs refuse): the contract's models
    must read it."""
    try:
        event = _DECODER.decode(raw)
        return isinstance(event, Received), event.row(seq)
    except (msgspec.DecodeError, ValueError):  # msgspec.ValidationError is a DecodeError
        return None


def _instant(text: str) -> datetime:
    if _AWARE.match(text) is None:
        raise ValueError(f"not RFC 3339 with an offset: {text!r}")
    return datetime.fromisoformat(text)
