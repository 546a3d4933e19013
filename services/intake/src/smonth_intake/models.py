"""What units, systems and the public submit to intake: the request bodies of the contract.

The same models validate HTTP bodies and the `data` of envelopes on `smonth.inbound.v1`.
"""

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, HttpUrl

from smonth_shared.events import IndustryCode, ProvinceCode

Text = Annotated[str, Field(min_length=1, max_length=200)]
CHINESE_MOBILE = r"^(\+?86-?)?1[3-9]\d{9}$"
CHINESE_PHONE = r"^((\+?86-?)?1[3-9]\d{9}|0\d{2,3}-?\d{7,8}(-\d{1,6})?)$"


class Submission(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class TipContact(Submission):
    name: Annotated[str, Field(max_length=50)] | None = None
    phone: (
        Annotated[
            str, Field(pattern=CHINESE_PHONE, description="Mobile or landline with area code")
        ]
        | None
    ) = None
    email: EmailStr | None = None


class TipSubmission(Submission):
    province: ProvinceCode
    industry: IndustryCode
    category: Literal["major_hazard", "violation"]
    description: Annotated[str, Field(min_length=10, max_length=4000)]
    city: Annotated[str, Field(max_length=50)] | None = None
    location: Annotated[str, Field(max_length=200)] | None = None
    enterprise: Annotated[str, Field(max_length=200)] | None = None
    occurred_on: date | None = None
    contact: TipContact | None = Field(
        default=None, description="Optional; encrypted, seen only by the tip's province."
    )


class CaseSubmission(Submission):
    province: ProvinceCode
    title: Text
    industry: IndustryCode
    enterprise: Text
    summary: Annotated[str, Field(min_length=1, max_length=4000)]
    media_outlet: Text = Field(description="The provincial mainstream medium that published it.")
    published_on: date
    url: HttpUrl
