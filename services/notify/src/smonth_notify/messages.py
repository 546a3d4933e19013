"""What a reminder says: a Chinese subject, an e-mail text signed by the office, a short SMS text.

The wording lives in `messages.toml` (string.Template placeholders), the facts in the campaign file.
"""

import tomllib
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.resources import files
from string import Template
from typing import Any

from smonth_notify.domain import Occasion
from smonth_shared.campaign import Campaign
from smonth_shared.wording import chinese_day


@dataclass(frozen=True)
class Message:
    subject: str
    text: str
    sms: str


def compose(
    campaign: Campaign, occasion: Occasion, unit: str, *, liaison_name: str | None,
    to_fallback: bool,
) -> Message:  # fmt: skip
    wordings = _wordings()
    wording = _lookup(wordings, occasion.wording)
    unit_name = campaign.unit(unit).name
    office = campaign.office
    values = {
        "title": campaign.title, "document": campaign.document, "unit_name": unit_name,
        "addressee": f"{liaison_name}同志" if liaison_name else unit_name,
        "deadline": chinese_day(campaign.summary_deadline.astimezone(campaign.tz).date()),
        "liaison_form": campaign.forms.liaison,
        "quota": str(campaign.exposure.min_cases_per_province_per_month),
        "office_name": office.name, "office_phone": office.phone, "office_email": office.email,
        **_month_values(occasion.month),
    }  # fmt: skip

    def fill(template: str) -> str:
        return Template(template).substitute(values)

    paragraphs = [fill(wording["email"]), fill(wordings["signature"])]
    if to_fallback:
        paragraphs.insert(0, fill(wordings["fallback_preface"]))
    return Message(
        subject=fill(wording["subject"]), text="\n\n".join(paragraphs), sms=fill(wording["sms"])
    )


@cache
def _wordings() -> dict[str, Any]:
    return tomllib.loads((files("smonth_notify") / "messages.toml").read_text(encoding="utf-8"))


def _lookup(wordings: dict[str, Any], key: str) -> dict[str, str]:
    node: Any = wordings
    for part in key.split("."):
        node = node[part]
    return node


def _month_values(month: str | None) -> dict[str, str]:
    if month is None:
        return {}
    first = date.fromisoformat(f"{month}-01")
    last = date(first.year + first.month // 12, first.month % 12 + 1, 1).toordinal() - 1
    return {
        "month_label": f"{first.year}年{first.month}月",
        "month_end": chinese_day(date.fromordinal(last)).removeprefix(f"{first.year}年"),
    }
