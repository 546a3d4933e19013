"""What units, systems and the public submit to intake: the request bodies of the contract.

The same models validate HTTP bodies and the `data` of envelopes on `smonth.inbound.v1`.
"""

import re
from datetime import date
from typing import Annotated, Literal
from uuid import UUID

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, Field, HttpUrl

from smonth_shared.events import IndustryCode, ProvinceCode, UnitCode
from smonth_shared.problems import rule
from smonth_shared.storable import StorableBody

CHINESE_MOBILE = r"^(\+?86[- ]?)?1[3-9]\d{9}$"
# An office number always carries its area code (010, 0755...): 010-64463407, (010)64463407.
OFFICE_PHONE = r"^(\+?86[- ]?)?(\(0\d{2,3}\)|0\d{2,3}[- ]?)\d{7,8}([- ]\d{1,6})?$"
ANY_PHONE = (
    r"^((\+?86[- ]?)?1[3-9]\d{9}|(\+?86[- ]?)?(\(0\d{2,3}\)|0\d{2,3}[- ]?)\d{7,8}([- ]\d{1,6})?)$"
)
MAX_COUNT = 10**12  # far above any national total, and exact in every JSON reader


def _mobile(value: str) -> str:
    if not re.fullmatch(CHINESE_MOBILE, value):
        raise rule(
            "mobile", "not a mainland mobile number: 11 digits starting with 1, e.g. 13800138000",
            "应为11位手机号码（以1开头），如 13800138000",
        )  # fmt: skip
    return value


def _office_phone(value: str) -> str:
    if not re.fullmatch(OFFICE_PHONE, value):
        raise rule(
            "office_phone", "not an office number with its area code, e.g. 010-64463407",
            "应为带区号的办公电话，如 010-64463407",
        )  # fmt: skip
    return value


def _any_phone(value: str) -> str:
    if not re.fullmatch(ANY_PHONE, value):
        raise rule(
            "phone", "not a phone number: a mobile (13800138000) or a landline with its area "
            "code (010-64463407)", "应为手机号码或带区号的固定电话",
        )  # fmt: skip
    return value


def _email(value: str) -> str:
    try:
        validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        # The library's reason quotes parts of the address: it must not reach an error or a log.
        raise rule(
            "email", "not an e-mail address (name@example.cn)", "电子邮箱格式不正确"
        ) from None
    return value


Text50 = Annotated[str, Field(min_length=1, max_length=50)]
Text100 = Annotated[str, Field(min_length=1, max_length=100)]
Title = Annotated[str, Field(min_length=1, max_length=200)]
Text2000 = Annotated[str, Field(min_length=1, max_length=2000)]
Text4000 = Annotated[str, Field(min_length=1, max_length=4000)]
Mobile = Annotated[
    str, Field(max_length=20, json_schema_extra={"pattern": CHINESE_MOBILE}),
    AfterValidator(_mobile),
]  # fmt: skip
OfficePhone = Annotated[
    str, Field(max_length=30, json_schema_extra={"pattern": OFFICE_PHONE}),
    AfterValidator(_office_phone),
]  # fmt: skip
Phone = Annotated[
    str, Field(max_length=30, json_schema_extra={"pattern": ANY_PHONE}), AfterValidator(_any_phone)
]
Email = Annotated[
    str, Field(max_length=254, json_schema_extra={"format": "email"}), AfterValidator(_email)
]
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


class Submission(StorableBody):
    """What a unit, a system or the public submits."""


class ProgressReport(Submission):
    """Attachment 1: a unit's cumulative figures since the campaign started, as of a date."""

    unit: UnitCode
    as_of: date = Field(description="The date the cumulative figures stand at.")
    indicators: dict[Annotated[str, Field(max_length=64, json_schema_extra={"x-registry": "indicators"})], Count] = Field(
        min_length=1, max_length=64,
        description="Cumulative figures by indicator code of the campaign's statistics table.",
    )  # fmt: skip


class LiaisonDesignation(Submission):
    """Attachment 2: the unit's one liaison (联络员)."""

    name: Text50
    position: Text100
    office_phone: OfficePhone = Field(description="With area code, e.g. 010-64463407.")
    mobile: Mobile = Field(description="Mainland mobile number, e.g. 13800138000.")
    email: Email


class InboundLiaison(LiaisonDesignation):
    """On the inbound topic the unit is the envelope's subject; `unit`, if given, must match."""

    unit: UnitCode | None = None


class SummaryReport(Submission):
    unit: UnitCode
    title: Title
    body: str = Field(min_length=1, max_length=100_000, description="The report's text.")


class MaterialSubmission(Submission):
    """Good practices, videos and pictures a unit sends during the campaign (multipart form)."""

    unit: UnitCode
    kind: Literal["practice", "video", "picture"]
    title: Title
    description: Annotated[str, Field(max_length=4000)] = ""


class TipContact(Submission):
    name: Text50 | None = None
    phone: Phone | None = Field(default=None, description="Mobile or landline with area code.")
    email: Email | None = None

    @property
    def named(self) -> bool:
        return any((self.name, self.phone, self.email))


class TipSubmission(Submission):
    province: ProvinceCode
    industry: IndustryCode
    category: Literal["major_hazard", "violation"]
    description: Annotated[str, Field(min_length=10, max_length=4000)]
    city: Text50 | None = None
    location: Title | None = None
    enterprise: Title | None = None
    occurred_on: date | None = None
    contact: TipContact | None = Field(
        default=None, description="Optional; encrypted, seen only by the tip's province."
    )


class TipLookup(Submission):
    receipt_code: Annotated[str, Field(min_length=16, max_length=80, pattern=r"^[A-Za-z2-7 -]+$")]


class TipOutcome(Submission):
    """What the tip's province found; the tipster sees `status` and `reply`."""

    status: Literal["verified", "unfounded"]
    rectified: bool = Field(description="Whether the hazard or violation has been put right.")
    reward_paid: bool = Field(description="Whether the tipster was rewarded (verified tips only).")
    reply: Text2000 = Field(description="The public reply the tipster reads with the receipt.")


class InboundTipOutcome(TipOutcome):
    tip_id: UUID


class CaseSubmission(Submission):
    province: ProvinceCode
    title: Title
    industry: IndustryCode
    enterprise: Title
    summary: Text4000
    media_outlet: Title = Field(description="The provincial mainstream medium that published it.")
    published_on: date
    url: HttpUrl
