"""intake's rules: what the campaign accepts, beyond the shape of a submission. No I/O here."""

import base64
import hashlib
import secrets
from datetime import date

from smonth_intake.models import CaseSubmission, TipSubmission
from smonth_shared.campaign import Campaign
from smonth_shared.problems import Problem

RECEIPT_BYTES = 20  # 160 bits: a receipt code cannot be guessed


def new_receipt_code() -> str:
    """Shown once to the tipster; grouped in fours so it can be read out over the phone."""
    raw = base64.b32encode(secrets.token_bytes(RECEIPT_BYTES)).decode().rstrip("=")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def receipt_hash(code: str) -> bytes:
    normalised = code.replace("-", "").replace(" ", "").upper()
    return hashlib.sha256(normalised.encode()).digest()


def check_province(campaign: Campaign, province: str) -> None:
    if province not in {unit.code for unit in campaign.provinces}:
        raise Problem.invalid(
            ["province"],
            f"'{province}' is not a provincial unit of campaign {campaign.id} "
            "(GB/T 2260 codes, 66 for the XPCC)",
            f"省份代码“{province}”不在本次活动的省级单位之列（按 GB/T 2260，兵团为 66）",
        )


def check_not_after(field: str, day: date | None, today: date) -> None:
    if day is not None and day > today:
        raise Problem.invalid(
            [field],
            f"{day.isoformat()} is in the future (today is {today.isoformat()})",
            f"日期 {day.isoformat()} 晚于今天（{today.isoformat()}）",
        )


def check_tip(campaign: Campaign, tip: TipSubmission, today: date) -> None:
    check_province(campaign, tip.province)
    check_not_after("occurred_on", tip.occurred_on, today)


def check_case(campaign: Campaign, case: CaseSubmission, today: date) -> None:
    check_province(campaign, case.province)
    if not campaign.is_in_exposure_window(case.published_on):
        window = f"{campaign.exposure.start.isoformat()}..{campaign.exposure.end.isoformat()}"
        raise Problem.invalid(
            ["published_on"],
            f"{case.published_on.isoformat()} is outside the exposure window {window}",
            f"曝光日期 {case.published_on.isoformat()} 不在“安全生产万里行”期间"
            f"（{campaign.exposure.start.isoformat()} 至 {campaign.exposure.end.isoformat()}）",
        )
    check_not_after("published_on", case.published_on, today)
